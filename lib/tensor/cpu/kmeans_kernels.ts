/**
 * CPU kernels of the k-means driver (lib/quant/kmeans.ts): the cluster statistic and centroid
 * update (native, native/core/quant.h), and the sequential steps that draw from the seeded
 * stream or walk the rows in order (empty-cluster splits, k-means++ rounds, float64 sums, the
 * balanced assignment) in plain JavaScript, whose float64 arithmetic the CUDA kernels repeat.
 * @internal
 */
import { ValueError } from '../../errors.js';
import { balancedAssign } from '../balanced_assign.js';
import { empty } from '../creation.js';
import { f64View } from '../f64_bits.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';

declare module '../native.js' {
  interface NativeAddon {
    clusterSums(x: Float32Array, n: number, d: number, assignments: Int32Array, k: number, counts: Int32Array, sums: Int32Array): void;
    centroidsFromSums(sums: Int32Array, counts: Int32Array, k: number, d: number, centroids: Float32Array): void;
  }
}

/** The relative perturbation of a split cluster's two copies. */
const SPLIT_EPS = 1 / 1024;

/** A generator continuing the stream of an int32 [4] state tensor's words. */
function streamOf(rng: Int32Array): Generator {
  const g = new Generator(0);
  g.setState(rng);
  return g;
}

/** k-means kernels on the CPU. @internal */
export const cpuKmeansKernels = {
  clusterSums: ({ x, assignments }, { K }) => {
    const [n, d] = x.shape;
    const counts = empty([K], 'int32');
    const sums = empty([K, d, 2], 'int32');
    native.clusterSums(x.f32('x'), n, d, assignments.i32('assignments'), K, counts.i32(), sums.i32());
    return { counts, sums };
  },

  centroidsFromSums: ({ sums, counts, centroids }) => {
    const [k, d] = centroids.shape;
    native.centroidsFromSums(sums.i32('sums'), counts.i32('counts'), k, d, centroids.f32('centroids'));
    return centroids;
  },

  splitEmptyClusters: ({ centroids, counts: countsT, rng, splits }, { n }) => {
    const [k, d] = centroids.shape;
    const c = centroids.f32('centroids');
    const counts = countsT.i32('counts');
    const state = rng.i32('rng');
    const g = streamOf(state);
    let done = 0;
    for (let ci = 0; ci < k; ci++) {
      if (counts[ci] !== 0) continue;
      let cj = 0;
      for (let guard = 0; ; cj = (cj + 1) % k, guard++) {
        const p = (counts[cj] - 1) / Math.max(1, n - k);
        if (g.uniform() < p || guard > 100 * k) break;
      }
      if (counts[cj] < 2) continue; // nothing to split (degenerate data)
      for (let j = 0; j < d; j++) {
        const v = c[cj * d + j];
        const up = j % 2 === 0;
        c[ci * d + j] = v * (up ? 1 + SPLIT_EPS : 1 - SPLIT_EPS);
        c[cj * d + j] = v * (up ? 1 - SPLIT_EPS : 1 + SPLIT_EPS);
      }
      counts[ci] = counts[cj] >> 1;
      counts[cj] -= counts[ci];
      done++;
    }
    state.set(g.getState());
    splits.i32('splits')[0] += done;
    return centroids;
  },

  dsquaredRound: ({ distances, minDist, chosen: chosenT, round, rng }, { m }) => {
    const n = minDist.size;
    const dist = distances.f32('distances');
    const minD = minDist.f32('minDist');
    const chosen = chosenT.i32('chosen');
    for (const p of round.i32('round')) chosen[p] = 1;
    const prefix = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = chosen[i] ? 0 : Math.max(0, dist[i]);
      if (v < minD[i]) minD[i] = v;
      total += minD[i];
      prefix[i] = total;
    }
    const state = rng.i32('rng');
    const g = streamOf(state);
    const out = empty([m], 'int32');
    const picked = out.i32();
    let have = 0;
    for (let guard = 0; have < m; guard++) {
      const sampling = total > 0 && guard < 100 * m;
      let p: number;
      if (sampling) {
        const r = g.uniform() * total;
        let lo = 0,
          hi = n - 1; // first i with prefix[i] > r
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (prefix[mid] > r) hi = mid;
          else lo = mid + 1;
        }
        p = lo;
      } else {
        p = g.int(n); // all rows coincide with centres (or sampling keeps colliding)
      }
      const again = picked.subarray(0, have).includes(p);
      if (again || (sampling && chosen[p])) continue;
      picked[have++] = p;
    }
    state.set(g.getState());
    return out;
  },

  sumF64: ({ x, out }, { slot, square }) => {
    const a = x.f32('x');
    const o = f64View(out.i32('out'));
    if (!Number.isInteger(slot) || slot < 0 || slot >= o.length) throw new ValueError(`argument 'slot' must be in [0, ${o.length}), got ${slot}`, 'slot');
    let s = 0;
    if (square) for (let i = 0; i < a.length; i++) s += a[i] * a[i];
    else for (let i = 0; i < a.length; i++) s += a[i];
    o[slot] = s;
    return out;
  },

  balancedAssign: ({ order, distances, objective }, { cap, slot }) => {
    const [n, k] = order.shape;
    const o = f64View(objective.i32('objective'));
    if (!Number.isInteger(slot) || slot < 0 || slot >= o.length) throw new ValueError(`argument 'slot' must be in [0, ${o.length}), got ${slot}`, 'slot');
    const r = balancedAssign(order.i32('order'), distances.f32('distances'), n, k, cap);
    o[slot] = r.objective;
    return Tensor.fromArray(r.assign, [n], 'int32');
  },
} satisfies KernelGroup;
