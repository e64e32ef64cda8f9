/**
 * The DIN attention scorer (`dinScores`, `dinScoresBackward`) on CUDA, composed of the
 * device kernels instead of one fused kernel: the [B·H, 4K] input [q, k, q − k, q ⊙ k] is
 * materialised (the CPU kernel avoids it; device memory is plentiful) and the products run
 * as GEMMs. Same inputs, attributes and results as the CPU kernels in
 * lib/tensor/cpu/attention_kernels.ts; sums run in a different order, so results agree to
 * float rounding.
 * @internal
 */
import { runKernel } from '../backend.js';
import type { KernelGroup } from '../kernel_table.js';
import { tidy } from '../memory.js';
import type { Tensor } from '../tensor.js';
import type { BinaryName, UnaryName } from '../op_codes.js';

// Strides of `shape` (same rank as `out`, 1 where broadcast) over `out`.
function stridesOver(shape: readonly number[], out: readonly number[]): number[] {
  const st = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    st[i] = shape[i] === 1 && out[i] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return st;
}
/** Elementwise `op` of a and b broadcast to `out` (same rank). */
export const bin = (op: BinaryName, a: Tensor, b: Tensor, out: readonly number[]) =>
  runKernel('binary', { a, b }, { op, shape: out, aStrides: stridesOver(a.shape, out), bStrides: stridesOver(b.shape, out) });
const un = (op: UnaryName, x: Tensor) => runKernel('unary', { x }, { op });
const mm = (a: Tensor, b: Tensor, M: number, N: number, K: number, transA: boolean, transB: boolean) =>
  runKernel('matmul', { a, b }, { M, N, K, transA, transB, outShape: [M, N] });
const fill = (shape: number[], value: number) => runKernel('fill', {}, { shape, value, device: 'cuda' });
const sumRows = (x: Tensor, outer: number, len: number, inner: number, outShape: number[]) => runKernel('sumAxis', { x }, { outer, len, inner, outShape });

function features(q: Tensor, k: Tensor, B: number, H: number, K: number): Tensor {
  const shape = [B, H, K];
  const qb = q.view([B, 1, K]);
  const qRep = bin('add', qb, fill(shape, 0), shape);
  return runKernel('concat', { q: qRep, k, d: bin('sub', qb, k, shape), p: bin('mul', qb, k, shape) }, { axis: 2 });
}

// X = [q, k, q - k, q * k] as [B*H, 4K] and hidden = act(X W1^T + b1) as [B*H, A].
function forward(q: Tensor, k: Tensor, W1: Tensor, b1: Tensor, B: number, H: number, K: number, A: number, activation: string) {
  const BH = B * H;
  const X = features(q, k, B, H, K).view([BH, 4 * K]);
  const z = bin('add', mm(X, W1, BH, A, 4 * K, false, true), b1.view([1, A]), [BH, A]);
  return { X, hidden: un(activation === 'relu' ? 'relu' : 'sigmoid', z) };
}

/** The DIN scorer on CUDA, composed of device kernels. @internal */
export const cudaDinKernels = {
  dinScores: ({ query, keys, W1, b1, w2, b2 }, attrs) =>
    tidy(() => {
      const [B, H, K] = keys.shape;
      const A = W1.shape[0];
      const { hidden } = forward(query, keys, W1, b1, B, H, K, A, attrs.activation);
      const scores = bin('add', mm(hidden, w2.view([1, A]), B * H, 1, A, false, true), b2.view([1, 1]), [B * H, 1]);
      return scores.view([B, H]);
    }),

  // The hidden layer is recomputed here, as the CPU kernel does (no [B, H, A] kept from forward).
  dinScoresBackward: ({ query, keys, W1, b1, w2, dscores }, attrs) =>
    tidy(() => {
      const [B, H, K] = keys.shape;
      const A = W1.shape[0];
      const BH = B * H;
      const { hidden: s, X } = forward(query, keys, W1, b1, B, H, K, A, attrs.activation);
      const dsc = dscores.view([BH, 1]);
      const ds = mm(dsc, w2.view([1, A]), BH, A, 1, false, false);
      const dact = attrs.activation === 'relu' ? un('reluGrad', s) : bin('mul', s, bin('sub', fill([1, 1], 1), s, [BH, A]), [BH, A]);
      const dz = bin('mul', ds, dact, [BH, A]);
      const db2 = sumRows(dsc, 1, BH, 1, [1]);
      const dw2 = mm(dsc, s, 1, A, BH, true, false);
      const db1 = sumRows(dz, 1, BH, A, [A]);
      const dW1 = mm(dz, X, A, 4 * K, BH, true, false);
      let dq: Tensor | null = null;
      let dk: Tensor | null = null;
      if (attrs.needQ || attrs.needK) {
        const dX = mm(dz, W1, BH, 4 * K, A, false, false).view([B, H, 4 * K]);
        const part = (i: number) => runKernel('slice', { x: dX }, { axis: 2, start: i * K, length: K });
        const [dXq, dXk, dXd, dXp] = [0, 1, 2, 3].map(part);
        const shape = [B, H, K];
        if (attrs.needQ) {
          const perH = bin('add', bin('add', dXq, dXd, shape), bin('mul', dXp, keys, shape), shape);
          dq = sumRows(perH, B, H, K, [B, K]);
        }
        if (attrs.needK) dk = bin('add', bin('sub', dXk, dXd, shape), bin('mul', dXp, query.view([B, 1, K]), shape), shape);
      }
      return [dq, dk, dW1, db1, dw2, db2];
    }),
} satisfies KernelGroup;
