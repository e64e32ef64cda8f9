// Plain-JS float64 references for the foundation kernels (written from the definitions,
// independent of the library code).

/** Row-major strides of a shape. */
export function stridesOf(shape) {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export const sizeOf = (shape) => shape.reduce((p, d) => p * d, 1);

/** NumPy broadcasting of f over two arrays with shapes sa and sb. */
export function broadcast2(f, a, sa, b, sb) {
  const rank = Math.max(sa.length, sb.length);
  const pa = [...new Array(rank - sa.length).fill(1), ...sa];
  const pb = [...new Array(rank - sb.length).fill(1), ...sb];
  const so = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new Error('not broadcastable');
    return d === 1 ? pb[i] : d;
  });
  const ta = stridesOf(pa),
    tb = stridesOf(pb),
    to = stridesOf(so);
  const n = sizeOf(so);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let ia = 0,
      ib = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(k / to[d]) % so[d];
      if (pa[d] !== 1) ia += c * ta[d];
      if (pb[d] !== 1) ib += c * tb[d];
    }
    out[k] = f(a[ia], b[ib]);
  }
  return { out, shape: so };
}

/** C = alpha op(A) op(B) + beta C in float64. */
export function gemm(ta, tb, M, N, K, alpha, A, B, beta, C) {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let p = 0; p < K; p++) s += (ta ? A[p * M + i] : A[i * K + p]) * (tb ? B[j * K + p] : B[p * N + j]);
      out[i * N + j] = alpha * s + (beta !== 0 && C ? beta * C[i * N + j] : 0);
    }
  }
  return out;
}

/** Sum over the axes of x (shape), keeping them as 1. */
export function sumAxes(x, shape, axes) {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const so = stridesOf(outShape),
    sx = stridesOf(shape);
  const out = new Float64Array(sizeOf(outShape));
  for (let k = 0; k < x.length; k++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(k / sx[d]) % shape[d];
      if (!axes.includes(d)) o += c * so[d];
    }
    out[o] += x[k];
  }
  return { out, shape: outShape };
}

function rowsOf(x, cols, f) {
  const rows = x.length / cols;
  const res = [];
  for (let r = 0; r < rows; r++) res.push(f(Array.from(x.subarray(r * cols, (r + 1) * cols))));
  return res;
}

export function logsumexpRows(x, cols) {
  return Float64Array.from(
    rowsOf(x, cols, (row) => {
      if (row.some(Number.isNaN)) return NaN;
      const m = Math.max(...row);
      if (!Number.isFinite(m)) return m;
      return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    }),
  );
}

export function softmaxRows(x, cols) {
  const out = [];
  rowsOf(x, cols, (row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((p, v) => p + v, 0);
    out.push(...e.map((v) => v / s));
  });
  return Float64Array.from(out);
}

export function l2NormalizeRows(x, cols, eps = 1e-12) {
  const out = [];
  rowsOf(x, cols, (row) => {
    const n = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    out.push(...row.map((v) => v / Math.max(n, eps)));
  });
  return Float64Array.from(out);
}

/** First index of the max (min); a NaN wins at its first position. */
export function argRows(x, cols, isMax) {
  return Int32Array.from(
    rowsOf(x, cols, (row) => {
      const nan = row.findIndex(Number.isNaN);
      if (nan >= 0) return nan;
      let best = 0;
      for (let j = 1; j < row.length; j++) if (isMax ? row[j] > row[best] : row[j] < row[best]) best = j;
      return best;
    }),
  );
}
