/**
 * The k-means driver's kernels on CUDA (lib/tensor/cpu/kmeans_kernels.ts on the CPU, same
 * float64 arithmetic; native/cuda/kmeans.cu). The balanced assignment is a sequential greedy
 * with local search: this backend runs the CPU code on a host copy of its inputs.
 * @internal
 */
import { ValueError } from '../../errors.js';
import { balancedAssign } from '../balanced_assign.js';
import { allocArray } from '../dtype.js';
import type { KernelGroup } from '../kernel_table.js';
import { Tensor } from '../tensor.js';
import { cudaEmpty, f32, i32, ptr } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The k-means kernels on CUDA, against `addon`. */
export function cudaKmeansKernels(addon: CudaAddon) {
  const download = <T extends Int32Array | Float32Array>(t: Tensor, arg: string, out: T): T => {
    addon.download(ptr(t, arg), out);
    return out;
  };
  const checkSlot = (slot: number, t: Tensor) => {
    const slots = t.size >> 1;
    if (!Number.isInteger(slot) || slot < 0 || slot >= slots) throw new ValueError(`argument 'slot' must be in [0, ${slots}), got ${slot}`, 'slot');
  };
  return {
    clusterSums: ({ x, assignments }, { K }) => {
      const [N, D] = x.shape;
      const counts = cudaEmpty([K], 'int32');
      const sums = cudaEmpty([K, D, 2], 'int32');
      addon.clusterSums(f32(x, 'x'), N, D, i32(assignments, 'assignments'), K, ptr(counts, 'counts'), ptr(sums, 'sums'));
      return { counts, sums };
    },

    centroidsFromSums: ({ sums, counts, centroids }) => {
      const [K, D] = centroids.shape;
      addon.centroidsFromSums(i32(sums, 'sums'), i32(counts, 'counts'), K, D, f32(centroids, 'centroids'));
      return centroids;
    },

    splitEmptyClusters: ({ centroids, counts, rng, splits }, { n }) => {
      const [K, D] = centroids.shape;
      addon.splitEmptyClusters(f32(centroids, 'centroids'), i32(counts, 'counts'), K, D, i32(rng, 'rng'), i32(splits, 'splits'), n);
      return centroids;
    },

    dsquaredRound: ({ distances, minDist, chosen, round, rng }, { m }) => {
      const out = cudaEmpty([m], 'int32');
      addon.dsquaredRound(
        f32(distances, 'distances'),
        f32(minDist, 'minDist'),
        i32(chosen, 'chosen'),
        minDist.size,
        i32(round, 'round'),
        round.size,
        i32(rng, 'rng'),
        m,
        ptr(out, 'out'),
      );
      return out;
    },

    sumF64: ({ x, out }, { slot, square }) => {
      checkSlot(slot, out);
      addon.sumF64(f32(x, 'x'), x.size, square, i32(out, 'out'), slot);
      return out;
    },

    balancedAssign: ({ order, distances, objective }, { cap, slot }) => {
      checkSlot(slot, objective);
      const [n, k] = order.shape;
      const r = balancedAssign(download(order, 'order', new Int32Array(n * k)), download(distances, 'distances', new Float32Array(n * k)), n, k, cap);
      const bits = download(objective, 'objective', allocArray('int32', objective.size) as Int32Array);
      new Float64Array(bits.buffer)[slot] = r.objective;
      addon.upload(ptr(objective, 'objective'), bits);
      const assign = cudaEmpty([n], 'int32');
      addon.upload(ptr(assign, 'assign'), r.assign);
      return assign;
    },
  } satisfies KernelGroup;
}
