// Shared test utilities: seeded data, float64 references, finite-difference gradient checks.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';

/** Awkward sizes every kernel test sweeps. */
export const SIZES = [1, 3, 17, 255, 1000];

/** Deterministic Float32Array of normals. */
export function randArray(n, seed = 1, scale = 1) {
  const g = new q.Generator(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * g.normal();
  return a;
}

/** Deterministic Int32Array of integers in [0, hi). */
export function randInts(n, hi, seed = 1) {
  const g = new q.Generator(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = g.int(hi);
  return a;
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise. */
export function assertClose(actual, expected, { rtol = 1e-5, atol = 1e-5, msg = '' } = {}) {
  assert.equal(actual.length, expected.length, `${msg} length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${msg} element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/**
 * Checks the analytic gradient of scalar f(...inputs) against central differences computed
 * in float64 on copies of the inputs (f is evaluated by the library in float32, so the
 * step is moderate and the tolerance loose enough for float32 rounding).
 */
export function gradCheck(f, inputs, { eps = 1e-2, rtol = 2e-2, atol = 2e-3, wrt } = {}) {
  const idxs = wrt ?? inputs.map((_, i) => i);
  const leaves = inputs.map((arr, i) => {
    const t = q.tensor(Float32Array.from(arr.data), arr.shape);
    if (idxs.includes(i)) t.requiresGrad = true;
    return t;
  });
  const out = f(...leaves);
  out.backward();
  for (const i of idxs) {
    const analytic = leaves[i].grad.toTypedArray();
    const base = Float64Array.from(inputs[i].data);
    for (let k = 0; k < base.length; k++) {
      const evalAt = (v) => {
        const d = Float32Array.from(base);
        d[k] = v;
        const args = inputs.map((x, j) => q.tensor(j === i ? d : Float32Array.from(x.data), x.shape));
        return q.noGrad(() => f(...args).item());
      };
      const num = (evalAt(base[k] + eps) - evalAt(base[k] - eps)) / (2 * eps);
      const a = analytic[k];
      if (!(Math.abs(a - num) <= atol + rtol * Math.abs(num))) {
        assert.fail(`gradient of input ${i} element ${k}: analytic ${a}, numeric ${num}`);
      }
    }
  }
}

/** Asserts fn throws an error of class Cls whose message mentions `text`. */
export function assertThrowsTyped(fn, Cls, text) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    if (text) assert.match(e.message, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return true;
  });
}

export { q, assert };
