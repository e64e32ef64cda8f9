// Ranking metrics' input checking and edge cases (the reference comparisons are in
// rank.test.js): every bad input is a typed error naming the argument and saying what is wrong,
// and logloss's clipping is exact at the boundaries. Added where mutation testing
// (bench/results/mutation.md) showed checks that no test exercised.
import { q, assert } from './helpers.js';

const { metrics } = q.rank;

/** fn must throw an instance of Cls whose `argument` is `arg` and whose message matches `re`. */
function throwsNamed(fn, Cls, arg, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e && e.constructor.name}: ${e && e.message}`);
    assert.equal(e.argument, arg);
    assert.match(e.message, re);
    return true;
  });
}

describe('metrics: input checking', () => {
  it('labels, scores and groups must be arrays, typed arrays or tensors', () => {
    for (const bad of [null, undefined, 3, 'ab', {}, { length: '2' }]) {
      throwsNamed(() => metrics.auc(bad, [0.1, 0.2]), q.ValueError, 'labels', /argument 'labels' must be an array, a typed array or a Tensor/);
      throwsNamed(() => metrics.auc([0, 1], bad), q.ValueError, 'scores', /argument 'scores' must be an array/);
      throwsNamed(() => metrics.logloss([0, 1], bad), q.ValueError, 'probs', /argument 'probs' must be an array/);
      throwsNamed(() => metrics.gauc([0, 1], [0.1, 0.2], bad), q.ValueError, 'groups', /argument 'groups' must be an array/);
    }
    // Array-likes with a numeric length are accepted.
    assert.equal(metrics.auc({ length: 2, 0: 0, 1: 1 }, { length: 2, 0: 0.1, 1: 0.2 }), 1);
    assert.equal(metrics.gauc(q.tensor([0, 1, 0, 1]), q.tensor([0.1, 0.2, 0.4, 0.3]), q.tensor([1, 1, 2, 2])), 0.5);
  });

  it('lengths must agree; labels must be 0 or 1; scores and probs must not be NaN', () => {
    throwsNamed(() => metrics.auc([0, 1, 1], [0.1, 0.2]), q.ShapeError, 'scores', /argument 'scores' has 2 entries but 'labels' has 3/);
    throwsNamed(() => metrics.logloss([0, 1], [0.1, 0.2, 0.3]), q.ShapeError, 'probs', /argument 'probs' has 3 entries but 'labels' has 2/);
    throwsNamed(() => metrics.gauc([0, 1], [0.1, 0.2], [1]), q.ShapeError, 'groups', /argument 'groups' has 1 entries but 'labels' has 2/);
    throwsNamed(() => metrics.gauc([0, 1], [0.1], [1, 1]), q.ShapeError, 'scores', /argument 'scores' has 1 entries but 'labels' has 2/);
    throwsNamed(() => metrics.gauc([0, 1], [NaN, 0.1], [1, 1]), q.ValueError, 'scores', /argument 'scores' holds NaN at 0/);
    for (const v of [2, -1, 0.5, NaN, true]) {
      throwsNamed(() => metrics.auc([0, 1, v], [0.1, 0.2, 0.3]), q.ValueError, 'labels', new RegExp(`must hold 0 or 1, got ${v} at 2`));
    }
    throwsNamed(() => metrics.auc([0, 1, 0], [0.1, NaN, 0.3]), q.ValueError, 'scores', /argument 'scores' holds NaN at 1/);
    throwsNamed(() => metrics.logloss([0, 1], [0.1, NaN]), q.ValueError, 'probs', /argument 'probs' holds NaN at 1/);
    // Infinite scores are ordinary, ordered values.
    assert.equal(metrics.auc([0, 1, 0, 1], [-Infinity, Infinity, 0, 0]), (1 + 1 + 0.5 + 1) / 4);
  });

  it('auc needs both classes; gauc needs a group with both', () => {
    throwsNamed(() => metrics.auc([0, 0, 0], [0.1, 0.2, 0.3]), q.ValueError, 'labels', /must contain both classes/);
    throwsNamed(() => metrics.auc([], []), q.ValueError, 'labels', /must contain both classes/);
    throwsNamed(() => metrics.gauc([0, 1, 1], [0.1, 0.2, 0.3], [1, 2, 2]), q.ValueError, 'groups', /no group in 'groups' contains both classes/);
    // One usable group among single-class ones gives that group's AUC, whatever the others hold.
    assert.equal(metrics.gauc([1, 1, 0, 1, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.8, 0.7], [5, 6, 6, 6, 7, 7]), 0.5);
  });

  it('logloss: eps in (0, 0.5), a non-empty input, probabilities in [0, 1], exact clipping', () => {
    for (const eps of [0, -1e-15, 0.5, 0.7, NaN]) {
      throwsNamed(() => metrics.logloss([0, 1], [0.2, 0.8], eps), q.ValueError, 'eps', /argument 'eps' must be in \(0, 0.5\)/);
    }
    throwsNamed(() => metrics.logloss([], []), q.ValueError, 'labels', /argument 'labels' is empty/);
    for (const p of [-1e-9, 1 + 1e-9, Infinity, -Infinity]) {
      throwsNamed(() => metrics.logloss([1, 0], [0.5, p]), q.ValueError, 'probs', new RegExp(`must lie in \\[0, 1\\], got ${p} at 1`));
    }
    // Boundaries: 0 and 1 are valid probabilities, clipped to eps and 1 - eps.
    const eps = 1e-3;
    const ref = (y, p) =>
      -y.reduce((s, yi, i) => s + (yi === 1 ? Math.log(Math.min(Math.max(p[i], eps), 1 - eps)) : Math.log(1 - Math.min(Math.max(p[i], eps), 1 - eps))), 0) /
      y.length;
    for (const [y, p] of [
      [[1], [0]],
      [[0], [1]],
      [[1], [1]],
      [[0], [0]],
      [
        [1, 0, 1, 0],
        [0.0005, 0.9995, 0.999, 0.3],
      ],
      [
        [1, 0, 0],
        [eps, 1 - eps, 0.5],
      ],
    ]) {
      assert.equal(metrics.logloss(y, p, eps), ref(y, p), `labels ${y} probs ${p}`);
    }
    assert.equal(metrics.logloss([1], [0], eps), -Math.log(eps));
    assert.equal(metrics.logloss([0], [1], eps), -Math.log(1 - (1 - eps)));
    assert.equal(metrics.logloss([1], [1], eps), -Math.log(1 - eps));
    // The default eps is scikit-learn 1.2's 1e-15.
    assert.equal(metrics.logloss([1], [0]), -Math.log(1e-15));
  });
});
