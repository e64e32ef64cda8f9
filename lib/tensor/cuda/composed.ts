/**
 * Kernels that the CPU backend implements as fused native passes and CUDA implements by
 * composing device kernels (same names, inputs, attributes and results as
 * lib/tensor/cpu/embedding_kernels.ts and attention_kernels.ts): the table-batched lookup
 * (`tbeLookup`), the coalesced gradient of one table's column block (`coalesceStrided`), and
 * the packed target attention (`dinAttentionPool` and its backward) on top of the composed DIN
 * scorer (din.ts).
 * Host id arrays in the attributes are uploaded per call.
 * @internal
 */
import { runKernel } from '../backend.js';
import type { KernelGroup } from '../kernel_table.js';
import { tidy } from '../memory.js';
import { Tensor } from '../tensor.js';
import { bin } from './din.js';

const upload = (ids: Int32Array) => Tensor.fromArray(ids, [ids.length], 'int32').to('cuda');
const mul = (a: Tensor, b: Tensor, out: number[]) => bin('mul', a, b, out);
const add = (a: Tensor, b: Tensor) => bin('add', a, b, a.shape);

// rep = [queries (B rows); keys (B·H rows)] of width K; masks [B, M, H].
const split = (rep: Tensor, B: number, H: number, K: number): [Tensor, Tensor] => [
  runKernel('slice', { x: rep }, { axis: 0, start: 0, length: B }),
  runKernel('slice', { x: rep }, { axis: 0, start: B, length: B * H }).view([B, H, K]),
];

/** The kernels CUDA composes of other device kernels. @internal */
export const cudaComposedKernels = {
  tbeLookup: (inputs, attrs) =>
    tidy(() => {
      const { ids, group, G, n, dim, argName } = attrs;
      const tables = Object.values(inputs);
      const blocks: (Tensor | null)[] = new Array(G).fill(null);
      tables.forEach((t, i) => {
        // Negative ids are padding (zero rows); an id >= rows is an IndexError naming ids[i].
        const rowsOf = runKernel(
          'gatherRowsPadded',
          { table: t.view([t.shape[0], dim]), indices: upload(ids[i].subarray(0, n)) },
          { argName: `${argName ?? 'ids'}[${i}]` },
        );
        const g = group[i];
        blocks[g] = blocks[g] ? add(blocks[g]!, rowsOf) : rowsOf;
      });
      const parts: Record<string, Tensor> = {};
      blocks.forEach((b, g) => {
        parts[`g${g}`] = b ?? runKernel('fill', {}, { shape: [n, dim], value: 0, device: 'cuda' });
      });
      return runKernel('concatColumns', parts, { rows: n, outShape: [n, G * dim] });
    }),

  coalesceStrided: ({ source }, attrs) =>
    tidy(() => {
      const { ids, rows, dim, offset, argName } = attrs;
      const n = ids.length;
      const stride = source.shape[1];
      const block = runKernel('sliceColumns', { x: source }, { rows: n, cols: stride, start: offset, width: dim, outShape: [n, dim] });
      return runKernel('coalesceRows', { indices: upload(ids), source: block }, { rows, rowShape: [dim], argName: argName ?? 'ids', skipNegative: true });
    }),

  dinAttentionPool: ({ rep, masks, W1, b1, w2, b2 }, attrs) =>
    tidy(() => {
      const { B, H, activation } = attrs;
      const K = rep.shape[1];
      const M = masks.shape[1];
      const [query, keys] = split(rep, B, H, K);
      const scores = runKernel('dinScores', { query, keys, W1, b1, w2, b2 }, { activation });
      const w = mul(masks, scores.view([B, 1, H]), [B, M, H]);
      return runKernel('weightedPool', { w, k: keys }).view([B, M * K]);
    }),

  dinAttentionPoolBackward: ({ rep, masks, W1, b1, w2, b2, dpooled }, attrs) =>
    tidy(() => {
      const { B, H, activation, needRep } = attrs;
      const K = rep.shape[1];
      const M = masks.shape[1];
      const [query, keys] = split(rep, B, H, K);
      const scores = runKernel('dinScores', { query, keys, W1, b1, w2, b2 }, { activation });
      const w = mul(masks, scores.view([B, 1, H]), [B, M, H]);
      const [dw, dkPool] = runKernel('weightedPoolBackward', { w, k: keys, dout: dpooled.view([B, M, K]) }, { needW: true, needK: needRep });
      // d score[b, h] = sum_m masks[b, m, h] * dw[b, m, h]
      const dscores = runKernel('sumAxis', { x: mul(dw!, masks, [B, M, H]) }, { outer: B, len: M, inner: H, outShape: [B, H] });
      const [dq, dk, dW1, db1, dw2, db2] = runKernel('dinScoresBackward', { query, keys, W1, b1, w2, dscores }, { activation, needQ: needRep, needK: needRep });
      let drep: Tensor | null = null;
      if (needRep) {
        const dkeys = add(dk!, dkPool!).view([B * H, K]);
        drep = runKernel('concat', { q: dq!, k: dkeys }, { axis: 0 });
      }
      return [drep, dW1, db1, dw2, db2];
    }),
} satisfies KernelGroup;
