// Property-based fuzzing of every public entry point that reaches native code: random shapes,
// dtypes, values (NaN, ±Inf, denormals, huge), indices (negative, out of range) and disposed
// tensors. Each case must either match an independent reference or throw a typed QarmError —
// never crash, hang, or return a silently wrong result.
// QARM_FUZZ_RUNS sets the total number of cases (npm test: 1,000; npm run fuzz: 100,000).
// Every run draws a fresh seed (shown in the suite title and in fast-check's failure report);
// QARM_FUZZ_SEED=<seed> replays one.
import fc from 'fast-check';
import { q, assert } from './helpers.js';
import { decodeNpy, encodeNpy } from '../dist/data/npy.js';
import { decodeSafetensors, encodeSafetensors } from '../dist/data/safetensors.js';

const TOTAL = Number(process.env.QARM_FUZZ_RUNS ?? 1000);
const PROPERTIES = 11;
const runs = Math.max(1, Math.floor(TOTAL / PROPERTIES));
const SEED = Number(process.env.QARM_FUZZ_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
const params = { numRuns: runs, seed: SEED, endOnFailure: true };

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1.17e-38, 3.4e38, -3.4e38, 1, -1];

/** Float32 values: mostly moderate, sometimes special. */
const value = (special) =>
  special
    ? fc.oneof({ weight: 4, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL) })
    : fc.double({ min: -4, max: 4, noNaN: true });
const dim = fc.integer({ min: 0, max: 7 });
const shapeArb = fc.array(dim, { minLength: 0, maxLength: 3 });
const size = (s) => s.reduce((p, d) => p * d, 1);

function makeTensor(shape, dtype, values) {
  const n = size(shape);
  if (dtype === 'int32')
    return q.tensor(
      Int32Array.from({ length: n }, (_, i) => Math.trunc(values[i % Math.max(values.length, 1)] ?? 0) | 0),
      shape,
    );
  return q.tensor(
    Float32Array.from({ length: n }, (_, i) => values[i % Math.max(values.length, 1)] ?? 0),
    shape,
  );
}

const tensorArb = (special = true) =>
  fc
    .record({
      shape: shapeArb,
      dtype: fc.oneof({ weight: 9, arbitrary: fc.constant('float32') }, { weight: 1, arbitrary: fc.constant('int32') }),
      values: fc.array(value(special), { minLength: 1, maxLength: 40 }),
      disposed: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map((r) => {
      const t = makeTensor(r.shape, r.dtype, r.values);
      if (r.disposed) t.dispose();
      return { ...r, t };
    });

/** Runs fn; a thrown error must be a QarmError. Returns the result or undefined if it threw. */
function typedOrResult(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    assert.ok(e instanceof q.QarmError, `untyped error: ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    return { ok: false, error: e };
  }
}

const FLT_MAX = 3.4028234663852886e38;

/** Float32 result o against float64 reference ref, whose inputs' magnitude is mag: same NaN/±Inf, else within float32 rounding. */
function closeTo(o, ref, mag, msg) {
  if (Number.isNaN(ref)) return assert.ok(Number.isNaN(o), `${msg}: ${o}, reference NaN`);
  if (!Number.isFinite(ref) || Math.abs(ref) > FLT_MAX) return assert.equal(o, Math.sign(ref) * Infinity, `${msg}: reference ${ref}`);
  assert.ok(Math.abs(o - ref) <= 2e-6 * mag + 1e-37, `${msg}: ${o}, reference ${ref}`);
}

function sameFloat(a, b) {
  return (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b) || a === b;
}

function broadcastable(a, b) {
  const r = Math.max(a.length, b.length);
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1,
      y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

const BINARY = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: (x, y) => (x >= y ? x : y),
  minimum: (x, y) => (x <= y ? x : y),
};

describe(`fuzz (${TOTAL} cases, QARM_FUZZ_SEED=${SEED})`, function () {
  this.timeout(0);

  it('broadcasting binary ops match float32 arithmetic exactly or throw typed errors', () => {
    fc.assert(
      fc.property(tensorArb(), tensorArb(), fc.constantFrom(...Object.keys(BINARY)), (A, B, op) => {
        const r = typedOrResult(() => q[op](A.t, B.t));
        const valid = !A.disposed && !B.disposed && A.dtype === 'float32' && B.dtype === 'float32' && broadcastable(A.shape, B.shape);
        assert.equal(r.ok, valid, `valid=${valid} but ${r.ok ? 'returned' : r.error.message}`);
        if (!valid) return;
        const out = r.value;
        const rank = Math.max(A.shape.length, B.shape.length);
        const oshape = Array.from(
          { length: rank },
          (_, i) =>
            Math.max(A.shape[A.shape.length - rank + i] ?? 1, B.shape[B.shape.length - rank + i] ?? 1) *
            ((A.shape[A.shape.length - rank + i] ?? 1) === 0 || (B.shape[B.shape.length - rank + i] ?? 1) === 0 ? 0 : 1),
        );
        assert.deepEqual(out.shape, oshape);
        const a = A.t.toTypedArray(),
          b = B.t.toTypedArray(),
          o = out.toTypedArray();
        const idx = (shape, flat) => {
          let off = 0,
            stride = 1;
          for (let d = rank - 1, rem = flat; d >= 0; d--) {
            const od = oshape[d];
            const i = rem % od;
            rem = Math.floor(rem / od);
            const sd = shape[shape.length - rank + d];
            if (sd !== undefined) {
              if (sd !== 1) off += i * stride;
              stride *= sd;
            }
          }
          return off;
        };
        for (let i = 0; i < o.length; i++) {
          const expect = Math.fround(BINARY[op](a[idx(A.shape, i)], b[idx(B.shape, i)]));
          assert.ok(sameFloat(o[i], expect), `${op} element ${i}: ${o[i]} vs ${expect}`);
        }
      }),
      params,
    );
  });

  it('unary ops match a float64 reference or throw typed errors', () => {
    const REF = {
      relu: (x) => (x > 0 ? x : 0),
      sigmoid: (x) => 1 / (1 + Math.exp(-x)),
      tanh: Math.tanh,
      exp: Math.exp,
      log: Math.log,
      sqrt: Math.sqrt,
      abs: Math.abs,
      neg: (x) => -x,
      square: (x) => x * x,
    };
    fc.assert(
      fc.property(tensorArb(), fc.constantFrom(...Object.keys(REF)), (A, op) => {
        const r = typedOrResult(() => q[op](A.t));
        const valid = !A.disposed && A.dtype === 'float32';
        assert.equal(r.ok, valid);
        if (!valid) return;
        const a = A.t.toTypedArray(),
          o = r.value.toTypedArray();
        for (let i = 0; i < o.length; i++) {
          const e = Math.fround(REF[op](a[i]));
          if (Number.isNaN(e) || !Number.isFinite(e))
            assert.ok(sameFloat(o[i], e) || (Math.abs(e) > 3e38 && Math.abs(o[i]) > 3e38), `${op}(${a[i]}) = ${o[i]} vs ${e}`);
          else assert.ok(Math.abs(o[i] - e) <= 1e-6 + 1e-5 * Math.abs(e), `${op}(${a[i]}) = ${o[i]} vs ${e}`);
        }
      }),
      params,
    );
  });

  it('matmul matches a float64 reference on finite data and never crashes on any input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: -1, max: 1 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(value(false), { minLength: 1, maxLength: 30 }),
        (M, K, N, skew, ta, tb, special, vals) => {
          const K2 = Math.max(0, K + skew);
          const A = makeTensor(ta ? [K, M] : [M, K], 'float32', special ? vals.map((v, i) => (i % 7 === 3 ? SPECIAL[i % SPECIAL.length] : v)) : vals);
          const B = makeTensor(tb ? [N, K2] : [K2, N], 'float32', vals.slice().reverse());
          const r = typedOrResult(() => q.matmul(A, B, { transA: ta, transB: tb }));
          assert.equal(r.ok, K === K2, r.ok ? 'mismatched inner dims accepted' : r.error.message);
          if (!r.ok || special) return;
          assert.deepEqual(r.value.shape, [M, N]);
          const a = A.toTypedArray(),
            b = B.toTypedArray(),
            o = r.value.toTypedArray();
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0,
                mag = 0;
              for (let p = 0; p < K; p++) {
                const x = ta ? a[p * M + i] : a[i * K + p];
                const y = tb ? b[j * K + p] : b[p * N + j];
                s += x * y;
                mag += Math.abs(x * y);
              }
              assert.ok(Math.abs(o[i * N + j] - s) <= 1e-5 * (mag + 1), `C[${i},${j}] ${o[i * N + j]} vs ${s}`);
            }
        },
      ),
      params,
    );
  });

  it('gather / scatterAdd / indexAdd check every index and match the reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.integer({ min: -3, max: 11 }), { maxLength: 20 }),
        fc.constantFrom('gather', 'scatterAdd', 'indexAdd'),
        fc.array(value(false), { minLength: 1, maxLength: 20 }),
        (R, D, ids, op, vals) => {
          const table = makeTensor([R, D], 'float32', vals);
          const indices = q.tensor(Int32Array.from(ids), [ids.length]);
          const src = makeTensor([ids.length, D], 'float32', vals.slice().reverse());
          const inRange = ids.every((i) => i >= 0 && i < R);
          const before = Float32Array.from(table.toTypedArray());
          const r = typedOrResult(() => (op === 'gather' ? q.gather(table, indices) : q[op](table, indices, src)));
          assert.equal(r.ok, inRange, r.ok ? 'out-of-range index accepted' : r.error.message);
          if (!r.ok) {
            assert.deepEqual(table.toTypedArray(), before, `${op} wrote before failing`);
            if (ids.some((i) => i < 0 || i >= R)) assert.ok(r.error instanceof q.IndexError, r.error.constructor.name);
            return;
          }
          const o = r.value.toTypedArray();
          const s = src.toTypedArray();
          if (op === 'gather') {
            ids.forEach((id, i) => {
              for (let d = 0; d < D; d++) assert.equal(o[i * D + d], before[id * D + d]);
            });
          } else {
            const ref = Float32Array.from(before);
            ids.forEach((id, i) => {
              for (let d = 0; d < D; d++) ref[id * D + d] = Math.fround(ref[id * D + d] + s[i * D + d]);
            });
            for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(o[i] - ref[i]) <= 1e-5 * (1 + Math.abs(ref[i])), `${op} element ${i}`);
          }
        },
      ),
      params,
    );
  });

  it('reductions and row ops: typed errors exactly for invalid input, float64 reference results otherwise', () => {
    fc.assert(
      fc.property(
        tensorArb(),
        fc.integer({ min: -4, max: 3 }),
        fc.constantFrom('sum', 'mean', 'softmax', 'logsumexp', 'l2Normalize', 'argmax', 'argmin'),
        (A, axis, op) => {
          const r = typedOrResult(() => (op === 'sum' || op === 'mean' ? q[op](A.t, axis) : q[op](A.t)));
          const shape = A.shape,
            rank = shape.length;
          const reduced = op === 'sum' || op === 'mean';
          const a0 = axis < 0 ? axis + rank : axis;
          let valid = !A.disposed && A.dtype === 'float32';
          if (reduced) valid &&= axis >= -rank && axis < Math.max(rank, 1) && !(op === 'mean' && rank > 0 && shape[a0] === 0);
          else valid &&= rank >= 1 && shape[rank - 1] > 0;
          assert.equal(r.ok, valid, r.ok ? `${op} accepted invalid input` : `${op} rejected valid input: ${r.error.message}`);
          if (!valid) return;
          const a = Array.from(A.t.toTypedArray()),
            o = r.value.toTypedArray();
          if (reduced) {
            // Groups: the elements reduced into each output element, in output order.
            const outer = shape.slice(0, a0).reduce((p, d) => p * d, 1),
              len = rank ? shape[a0] : 1,
              inner = shape.slice(a0 + 1).reduce((p, d) => p * d, 1);
            assert.deepEqual(
              r.value.shape,
              shape.filter((_, i) => i !== a0),
            );
            assert.equal(o.length, outer * inner);
            for (let g = 0; g < outer * inner; g++) {
              const xs = Array.from({ length: len }, (_, t) => a[Math.floor(g / inner) * len * inner + t * inner + (g % inner)]);
              let ref = xs.reduce((p, v) => p + v, 0),
                mag = xs.reduce((p, v) => p + Math.abs(v), 0);
              if (op === 'mean') {
                // Known deviation: the float32 sum overflows before the division when |sum| > FLT_MAX.
                if (Math.abs(ref) > FLT_MAX) continue;
                ref /= len;
                mag /= len;
              }
              closeTo(o[g], ref, mag, `${op} axis ${axis} of [${shape}] output ${g}`);
            }
            return;
          }
          const cols = shape[rank - 1],
            rows = a.length / cols;
          for (let row = 0; row < rows; row++) {
            const xs = a.slice(row * cols, row * cols + cols);
            if (op === 'argmax' || op === 'argmin') {
              let best = 0;
              for (let j = 0; j < cols; j++) {
                if (Number.isNaN(xs[j])) {
                  best = j;
                  break;
                }
                if (op === 'argmax' ? xs[j] > xs[best] : xs[j] < xs[best]) best = j;
              }
              assert.equal(o[row], best, `${op} row ${row}`);
            } else if (op === 'logsumexp') {
              const m = xs.some(Number.isNaN) ? NaN : Math.max(...xs);
              const ref = Number.isFinite(m) || Number.isNaN(m) ? m + Math.log(xs.reduce((p, v) => p + Math.exp(v - m), 0)) : m;
              closeTo(o[row], ref, Math.abs(m) + 1, `logsumexp row ${row} of [${xs}]`);
            } else if (op === 'softmax') {
              const m = xs.some(Number.isNaN) ? NaN : Math.max(...xs);
              const e = xs.map((v) => Math.exp(v - m)),
                z = e.reduce((p, v) => p + v, 0);
              xs.forEach((_, j) => closeTo(o[row * cols + j], e[j] / z, 1, `softmax row ${row} of [${xs}] col ${j}`));
            } else {
              const n = Math.sqrt(xs.reduce((p, v) => p + v * v, 0));
              xs.forEach((v, j) => closeTo(o[row * cols + j], v / Math.max(n, 1e-12), 1, `l2Normalize row ${row} of [${xs}] col ${j}`));
            }
          }
        },
      ),
      params,
    );
  });

  it('nearest: typed errors for empty, NaN/Inf, k > K, bad metric; exact top-k otherwise', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: -1, max: 12 }),
        fc.constantFrom('l2', 'ip', 'cosine', 'hamming'),
        fc.boolean(),
        fc.array(value(false), { minLength: 1, maxLength: 30 }),
        (N, K, D, k, metric, special, vals) => {
          const x = makeTensor([N, D], 'float32', special ? vals.map((v, i) => (i === 1 ? NaN : v)) : vals);
          const c = makeTensor([K, D], 'float32', vals.slice().reverse());
          const r = typedOrResult(() => q.nearest(x, c, { k, metric }));
          const nanIn = special && vals.length > 1 && N * D > 1;
          const valid = N > 0 && K > 0 && D > 0 && k >= 1 && k <= K && metric !== 'hamming' && !nanIn;
          assert.equal(r.ok, valid, r.ok ? 'invalid call accepted' : r.error.message);
          if (!valid) return;
          const xa = x.toTypedArray(),
            ca = c.toTypedArray();
          const { indices, distances } = r.value;
          const I = indices.toTypedArray(),
            Dd = distances.toTypedArray();
          for (let i = 0; i < N; i++) {
            const ref = [];
            for (let j = 0; j < K; j++) {
              let dot = 0,
                xx = 0,
                cc = 0;
              for (let d = 0; d < D; d++) {
                dot += xa[i * D + d] * ca[j * D + d];
                xx += xa[i * D + d] ** 2;
                cc += ca[j * D + d] ** 2;
              }
              // Cosine: a norm <= 1e-30 counts as a zero vector (distance 1). Squares below float's
              // normal range lose precision in float32 dot products, so such rows are checked for
              // finiteness only (ref = null).
              if (metric === 'cosine' && (xx <= 1e-60 || cc <= 1e-60)) ref.push(1);
              else if (metric === 'cosine' && (xx < 1e-36 || cc < 1e-36)) ref.push(null);
              else ref.push(metric === 'l2' ? xx + cc - 2 * dot : metric === 'ip' ? -dot : 1 - dot / Math.sqrt(xx * cc));
            }
            if (ref.includes(null)) {
              for (let t = 0; t < k; t++) assert.ok(Number.isFinite(Dd[i * k + t]));
              continue;
            }
            const sorted = ref.slice().sort((p, q2) => p - q2);
            for (let t = 0; t < k; t++) {
              const tol = 1e-3 * (1 + Math.abs(sorted[t]));
              assert.ok(Math.abs(Dd[i * k + t] - sorted[t]) <= tol, `row ${i} rank ${t}: ${Dd[i * k + t]} vs ${sorted[t]}`);
              assert.ok(Math.abs(ref[I[i * k + t]] - sorted[t]) <= tol, `row ${i} rank ${t}: index ${I[i * k + t]} is not a nearest`);
            }
          }
        },
      ),
      params,
    );
  });

  it('npy decoder: any corruption or truncation gives an IOError, never a wrong-sized tensor', () => {
    const good = Buffer.concat(encodeNpy(q.randn([3, 5], { seed: 1 })));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), fc.boolean(), (edits, cut, truncate) => {
        const buf = Uint8Array.from(good);
        for (const [pos, byte] of edits) buf[pos % buf.length] = byte;
        const bytes = truncate ? buf.subarray(0, cut % buf.length) : buf;
        const r = typedOrResult(() => decodeNpy(bytes));
        if (r.ok) assert.equal(r.value.toTypedArray().length, r.value.size);
        else assert.ok(r.error instanceof q.IOError, r.error.constructor.name);
      }),
      params,
    );
  });

  it('safetensors decoder: any corruption or truncation gives an IOError', () => {
    const good = Buffer.concat(encodeSafetensors({ a: q.randn([4, 3], { seed: 2 }), b: q.tensor(new Int32Array([1, 2, 3])) }, { k: 'v' }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), fc.boolean(), (edits, cut, truncate) => {
        const buf = Uint8Array.from(good);
        for (const [pos, byte] of edits) buf[pos % buf.length] = byte;
        const bytes = truncate ? buf.subarray(0, cut % buf.length) : buf;
        const r = typedOrResult(() => decodeSafetensors(bytes));
        if (r.ok) for (const t of Object.values(r.value.tensors)) assert.equal(t.toTypedArray().length, t.size);
        else assert.ok(r.error instanceof q.IOError, r.error.constructor.name);
      }),
      params,
    );
  });

  it('embeddingBag: typed errors exactly for bad values/offsets; sums and means match the reference', () => {
    // Half the cases are well-formed (values taken modulo R, offsets sorted cut points from 0 to
    // the number of values), so the reference comparison runs often; the rest are raw.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: -1, max: 14 }), { maxLength: 5 }),
        fc.constantFrom('sum', 'mean'),
        fc.boolean(),
        (R, D, rawVals, rawOffs, mode, wellFormed) => {
          const vals = wellFormed && R > 0 ? rawVals.map((v) => ((v % R) + R) % R) : rawVals;
          const offs = wellFormed ? [0, ...rawOffs.map((o) => Math.min(Math.max(o, 0), vals.length)).sort((p, q2) => p - q2), vals.length] : rawOffs;
          const table = q.randn([R, D], { seed: R + D });
          const values = q.tensor(Int32Array.from(vals), [vals.length]);
          const offsets = q.tensor(Int32Array.from(offs), [offs.length]);
          const r = typedOrResult(() => q.embeddingBag(table, values, offsets, { mode }));
          // Valid: every value a table row, offsets non-decreasing from 0 to the number of values.
          const valid =
            vals.every((v) => v >= 0 && v < R) &&
            offs.length >= 1 &&
            offs[0] === 0 &&
            offs[offs.length - 1] === vals.length &&
            offs.every((v, i) => i === 0 || v >= offs[i - 1]);
          assert.equal(r.ok, valid, r.ok ? `accepted values [${vals}] offsets [${offs}] rows ${R}` : `rejected valid input: ${r.error.message}`);
          if (!valid) return;
          assert.deepEqual(r.value.shape, [offs.length - 1, D]);
          const t = table.toTypedArray(),
            o = r.value.toTypedArray();
          assert.equal(o.length, (offs.length - 1) * D);
          for (let b = 0; b + 1 < offs.length; b++) {
            for (let d = 0; d < D; d++) {
              let ref = 0,
                mag = 0;
              for (let j = offs[b]; j < offs[b + 1]; j++) {
                ref += t[vals[j] * D + d];
                mag += Math.abs(t[vals[j] * D + d]);
              }
              const n = offs[b + 1] - offs[b];
              if (mode === 'mean' && n > 0) {
                ref /= n;
                mag /= n;
              }
              closeTo(o[b * D + d], ref, mag, `bag ${b} dim ${d} (${mode})`);
            }
          }
        },
      ),
      params,
    );
  });

  it('vqCodes: typed errors for bad k / shapes, top-k by float64 distance (excludeSelf drops the item) otherwise', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -1, max: 10 }),
        fc.boolean(),
        fc.constantFrom('l2', 'ip', 'cosine'),
        fc.array(value(false), { minLength: 1, maxLength: 30 }),
        (N, P, D, k, excludeSelf, metric, vals) => {
          const pool = makeTensor([P, D], 'float32', vals);
          // With excludeSelf the items are the pool itself (same rows), as the VQ code is used.
          const x = excludeSelf ? pool : makeTensor([N, D], 'float32', vals.slice().reverse());
          const n = x.shape[0];
          const r = typedOrResult(() => q.vqCodes(x, pool, { k, excludeSelf, metric }));
          const valid = n > 0 && P > 0 && D > 0 && k >= 1 && k + (excludeSelf ? 1 : 0) <= P;
          assert.equal(r.ok, valid, r.ok ? 'invalid call accepted' : `rejected valid input: ${r.error.message}`);
          if (!valid) return;
          const xa = x.toTypedArray(),
            pa = pool.toTypedArray(),
            I = r.value.toTypedArray();
          assert.deepEqual(r.value.shape, [n, k]);
          for (let i = 0; i < n; i++) {
            const dist = [];
            let imprecise = false;
            for (let j = 0; j < P; j++) {
              let dot = 0,
                xx = 0,
                cc = 0;
              for (let d = 0; d < D; d++) {
                dot += xa[i * D + d] * pa[j * D + d];
                xx += xa[i * D + d] ** 2;
                cc += pa[j * D + d] ** 2;
              }
              // Cosine norms below float's normal range are imprecise in float32 (as in the nearest property).
              if (metric === 'cosine' && ((xx > 1e-60 && xx < 1e-36) || (cc > 1e-60 && cc < 1e-36))) imprecise = true;
              dist.push(metric === 'l2' ? xx + cc - 2 * dot : metric === 'ip' ? -dot : xx <= 1e-60 || cc <= 1e-60 ? 1 : 1 - dot / Math.sqrt(xx * cc));
            }
            // Reference ranking: every pool row except (with excludeSelf) the item itself.
            const sorted = dist
              .map((v, j) => [v, j])
              .filter(([, j]) => !(excludeSelf && j === i))
              .sort((p, q2) => p[0] - q2[0] || p[1] - q2[1]);
            const row = Array.from(I.subarray(i * k, i * k + k));
            assert.equal(new Set(row).size, k, `row ${i}: repeated index in [${row}]`);
            row.forEach((id, t) => {
              assert.ok(id >= 0 && id < P, `row ${i}: index ${id} out of range`);
              if (imprecise) return;
              const tol = 1e-3 * (1 + Math.abs(sorted[t][0]));
              assert.ok(Math.abs(dist[id] - sorted[t][0]) <= tol, `row ${i} rank ${t}: index ${id} at distance ${dist[id]}, reference ${sorted[t][0]}`);
            });
            // The item itself is never among its codes (duplicates of it may be).
            if (excludeSelf) assert.ok(!row.includes(i), `row ${i} kept itself: [${row}]`);
          }
        },
      ),
      params,
    );
  });

  it('codes tooling: codeStats / disambiguate reject bad codes and sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: -2, max: 6 }),
        fc.array(fc.integer({ min: -2, max: 6 }), { minLength: 1, maxLength: 18 }),
        (N, L, K, raw) => {
          const codes = q.tensor(
            Int32Array.from({ length: N * L }, (_, i) => raw[i % raw.length]),
            [N, L],
          );
          const r = typedOrResult(() => q.codeStats(codes, K));
          const valid = N > 0 && L > 0 && K > 0 && codes.toTypedArray().every((c) => c >= 0 && c < K);
          if (r.ok) assert.ok(valid, 'invalid codes accepted by codeStats');
          const d = typedOrResult(() => q.disambiguate(codes));
          if (d.ok) assert.equal(d.value.shape[0], N);
        },
      ),
      params,
    );
  });
});
