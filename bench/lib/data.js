// Synthetic inputs shared by the suites.
import * as q from '../../dist/index.js';

/** float32 [N, D]: a mixture of 512 Gaussian blobs (so k-means has structure), seeded. */
export function mixture(N, D, seed) {
  const g = new q.Generator(seed);
  const C = 512;
  const mu = new Float32Array(C * D);
  for (let i = 0; i < mu.length; i++) mu[i] = g.normal();
  const x = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const c = g.int(C);
    for (let j = 0; j < D; j++) x[i * D + j] = mu[c * D + j] + 0.5 * g.normal();
  }
  return x;
}
