// kmeans' argument checks: each bad argument gets its typed error naming the argument, with the
// whole message; each limit is accepted and one past it rejected. Written for the survivors of
// the quant-kmeans mutation run (bench/results/mutation.md).
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { throwsArg } from './support/throws_arg.js';
import { NOT_COMMUNICATORS, oneRank } from './support/communicators.js';

/** float32 [n, d] with distinct rows (row i is i, i + 0.5, i + 1, ...). */
function rows(n, d) {
  return q.tensor(
    Float32Array.from({ length: n * d }, (_, j) => Math.floor(j / d) + 0.5 * (j % d)),
    [n, d],
  );
}

describe('kmeans argument checks', () => {
  it('x: a Tensor, float32, 2-D, not empty', () => {
    throwsArg(() => q.kmeans([[1, 2]], { k: 1 }), q.ValueError, 'x', /^argument 'x' must be a Tensor$/);
    throwsArg(() => q.kmeans(q.tensor(Float32Array.of(1, 2, 3), [3]), { k: 1 }), q.ShapeError, 'x', /^argument 'x' must be 2-D \[N, D\], got \[3\]$/);
    throwsArg(() => q.kmeans(q.tensor(new Float32Array(0), [0, 4]), { k: 1 }), q.ValueError, 'x', /^argument 'x' is empty \(\[0, 4\]\)$/);
    throwsArg(() => q.kmeans(q.tensor(new Float32Array(0), [3, 0]), { k: 1 }), q.ValueError, 'x', /^argument 'x' is empty \(\[3, 0\]\)$/);
    // One row of one column is the smallest accepted input.
    const r = q.kmeans(rows(1, 1), { k: 1, iterations: 1 });
    assert.deepEqual(Array.from(r.centroids.toTypedArray()), [0]);
  });

  it('k: an integer in [1, rows of x]', () => {
    const x = rows(5, 3);
    for (const k of [0, -1, 6, 2.5, NaN, undefined]) {
      throwsArg(() => q.kmeans(x, { k }), q.ValueError, 'k', new RegExp(`^argument 'k' must be an integer in \\[1, 5\\] \\(rows of x\\), got ${String(k)}$`));
    }
    // k = n: every row is its own centroid (rows are distinct).
    const r = q.kmeans(x, { k: 5, iterations: 2 });
    const c = Array.from(r.centroids.toTypedArray());
    const got = Array.from({ length: 5 }, (_, i) => c.slice(i * 3, i * 3 + 3).join(',')).sort();
    const want = Array.from({ length: 5 }, (_, i) => [i, i + 0.5, i + 1].join(',')).sort();
    assert.deepEqual(got, want);
  });

  it('balanced: a boolean', () => {
    for (const balanced of [1, 'yes', null]) {
      throwsArg(
        () => q.kmeans(rows(4, 2), { k: 2, balanced }),
        q.ValueError,
        'balanced',
        new RegExp(`^argument 'balanced' must be a boolean, got ${String(balanced)}$`),
      );
    }
  });

  it('iterations and maxPointsPerCentroid: non-negative integers (0 accepted)', () => {
    const x = rows(6, 2);
    for (const v of [-1, 1.5, NaN]) {
      throwsArg(
        () => q.kmeans(x, { k: 2, iterations: v }),
        q.ValueError,
        'iterations',
        new RegExp(`^argument 'iterations' must be a non-negative integer, got ${String(v)}$`),
      );
      throwsArg(
        () => q.kmeans(x, { k: 2, maxPointsPerCentroid: v }),
        q.ValueError,
        'maxPointsPerCentroid',
        new RegExp(`^argument 'maxPointsPerCentroid' must be a non-negative integer, got ${String(v)}$`),
      );
    }
    assert.equal(q.kmeans(x, { k: 2, iterations: 0, maxPointsPerCentroid: 0 }).centroids.shape.join(','), '2,2');
  });

  it("init: 'kmeans++', 'random' or a float32 [k, D] tensor", () => {
    const x = rows(6, 2);
    throwsArg(() => q.kmeans(x, { k: 2, init: 'forgy' }), q.ValueError, 'init', /^argument 'init' must be 'kmeans\+\+', 'random' or a Tensor, got forgy$/);
    const bad = [
      [q.tensor(new Float32Array(6), [3, 2]), /float32 \[2, 2\] tensor, got float32 \[3, 2\]$/],
      [q.tensor(new Float32Array(6), [2, 3]), /float32 \[2, 2\] tensor, got float32 \[2, 3\]$/],
      [q.tensor(new Float32Array(4), [4]), /float32 \[2, 2\] tensor, got float32 \[4\]$/],
      [q.Tensor.fromArray(new Int32Array(4), [2, 2], 'int32'), /float32 \[2, 2\] tensor, got int32 \[2, 2\]$/],
    ];
    for (const [init, re] of bad) throwsArg(() => q.kmeans(x, { k: 2, init }), q.ShapeError, 'init', new RegExp(`^argument 'init' must be a ${re.source}`));
    // A given init of the right shape is where Lloyd starts: with 0 iterations it is returned as is.
    const init = q.tensor(Float32Array.of(0, 0.5, 5, 5.5), [2, 2]);
    assert.deepEqual(Array.from(q.kmeans(x, { k: 2, init, iterations: 0 }).centroids.toTypedArray()), [0, 0.5, 5, 5.5]);
  });

  it('x: the 2-D message names every dimension of a 3-D input', () => {
    throwsArg(() => q.kmeans(q.tensor(new Float32Array(8), [2, 2, 2]), { k: 1 }), q.ShapeError, 'x', /^argument 'x' must be 2-D \[N, D\], got \[2, 2, 2\]$/);
    throwsArg(() => q.kmeans(q.tensor(new Int32Array(4), [2, 2], 'int32'), { k: 1 }), q.DTypeError, 'x', /^argument 'x' must be float32, got int32$/);
  });

  it('dist: a Communicator object; one rank is the one-process fit', () => {
    const x = rows(30, 3);
    for (const dist of NOT_COMMUNICATORS) {
      throwsArg(() => q.kmeans(x, { k: 3, dist }), q.ValueError, 'dist', /^argument 'dist' must be a Communicator \(lib\/dist's dist\)$/);
    }
    const one = oneRank();
    const a = q.kmeans(x, { k: 3, iterations: 4, seed: 2, dist: one });
    const b = q.kmeans(x, { k: 3, iterations: 4, seed: 2 });
    assert.deepEqual(Array.from(a.centroids.toTypedArray()), Array.from(b.centroids.toTypedArray()));
  });
});
