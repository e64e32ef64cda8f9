/**
 * CPU kernels of the residual VQ's training state (lib/quant/rvq.ts): usage moving averages,
 * the EMA codebook update and dead-code restarts, in plain JavaScript float64 (the arithmetic
 * native/cuda/vq_state.cu repeats). Float64 state is held as bits in int32 tensors
 * (f64_bits.ts).
 * @internal
 */
import { ValueError } from '../../errors.js';
import { empty } from '../creation.js';
import { f64View } from '../f64_bits.js';
import type { KernelGroup } from '../kernel_table.js';
import { Generator } from '../random.js';

/** VQ state kernels on the CPU. @internal */
export const cpuVqStateKernels = {
  emaF64Update: ({ state, x }, { decay }) => {
    const u = f64View(state.i32('state'));
    const c = x.f32('x');
    if (c.length !== u.length) throw new ValueError(`argument 'x' has ${c.length} values, 'state' ${u.length}`, 'x');
    for (let k = 0; k < u.length; k++) u[k] = decay * u[k] + (1 - decay) * c[k];
    return state;
  },

  vqEmaUpdate: ({ codebook, emaCounts, emaSums, counts, sums }, { decay, eps }) => {
    const [K, d] = codebook.shape;
    const cb = codebook.f32('codebook');
    const N = f64View(emaCounts.i32('emaCounts'));
    const M = f64View(emaSums.i32('emaSums'));
    const cnt = counts.f32('counts');
    const sm = sums.f32('sums');
    let total = 0;
    for (let k = 0; k < K; k++) {
      N[k] = decay * N[k] + (1 - decay) * cnt[k];
      total += N[k];
    }
    for (let k = 0; k < K; k++) {
      const smoothed = ((N[k] + eps) / (total + K * eps)) * total;
      for (let j = 0; j < d; j++) {
        M[k * d + j] = decay * M[k * d + j] + (1 - decay) * sm[k * d + j];
        cb[k * d + j] = M[k * d + j] / smoothed;
      }
    }
    return codebook;
  },

  deadCodeRestart: ({ codebook, usage, residual, rng, restarts, emaCounts, emaSums }, { threshold }) => {
    const [K, d] = codebook.shape;
    const n = residual.shape[0];
    const cb = codebook.f32('codebook');
    const u = f64View(usage.i32('usage'));
    const r = residual.f32('residual');
    const N = emaCounts ? f64View(emaCounts.i32('emaCounts')) : null;
    const M = emaSums ? f64View(emaSums.i32('emaSums')) : null;
    const state = rng.i32('rng');
    const g = new Generator(0);
    g.setState(state);
    let done = 0;
    for (let k = 0; k < K; k++) {
      if (u[k] >= threshold) continue;
      const i = g.int(n);
      cb.set(r.subarray(i * d, i * d + d), k * d);
      u[k] = threshold;
      if (N && M) {
        N[k] = 1;
        for (let j = 0; j < d; j++) M[k * d + j] = cb[k * d + j];
      }
      done++;
    }
    state.set(g.getState());
    restarts.i32('restarts')[0] += done;
    return codebook;
  },

  f32ToF64: ({ x }) => {
    const out = empty([x.size, 2], 'int32');
    f64View(out.i32()).set(x.f32('x'));
    return out;
  },
} satisfies KernelGroup;
