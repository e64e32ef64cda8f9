// Shared helpers of the GPU suite (`npm run test:cuda`): every suite skips itself, with the
// reason, when no CUDA device is in use; ops are compared with the CPU backend.
import { q, assert, assertClose, randArray, randInts } from '../helpers.js';

let told = false;
/** Call at the top of a describe(): skips the suite without a GPU, saying why (once). */
export function requireGpu() {
  before(function () {
    if (!q.cuda.isAvailable()) {
      if (!told) {
        console.log(`\n  GPU suite skipped: ${q.cuda.unavailableReason()}.\n`);
        told = true;
      }
      this.skip();
    }
  });
}

/** A CPU tensor and its CUDA copy. */
export function pair(data, shape, dtype) {
  const c = q.tensor(data, shape, dtype);
  return [c, c.to('cuda')];
}

/** Host values of a tensor on any device. */
export const host = (t) => t.toTypedArray();

/** Asserts a CUDA result equals the CPU result within tolerance (exact with rtol = atol = 0). */
export function same(gpu, cpu, opts = {}) {
  assert.equal(gpu.device, 'cuda', 'result should stay on the device');
  assert.deepEqual(gpu.shape, cpu.shape);
  assert.equal(gpu.dtype, cpu.dtype);
  assertClose(host(gpu), host(cpu), { rtol: 1e-5, atol: 1e-6, ...opts });
}

export { q, assert, assertClose, randArray, randInts };
