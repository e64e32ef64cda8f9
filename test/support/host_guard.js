// The host-read-forbidding backend of the tests: the CPU kernels, behind storage that throws on
// any host access outside a kernel (lib/tensor/storage.ts hostAccessGuard). A driver that runs
// to the end under it reads host memory only through Tensor.readHost(), the call that also
// works on CUDA, so it runs unchanged on device tensors.
import { hostAccessGuard } from '../../dist/tensor/storage.js';

/**
 * Runs `fn` (sync, or async returning a Promise) with host access forbidden outside kernels.
 * Returns `{ value, explicitReads }`: fn's result and how many readHost() calls it made.
 * Tensors fn needs as input must be created before; results are read after it returns.
 */
export function withoutHostReads(fn) {
  if (hostAccessGuard.forbid) throw new Error('withoutHostReads does not nest');
  hostAccessGuard.forbid = true;
  const start = hostAccessGuard.explicitReads;
  const done = () => {
    hostAccessGuard.forbid = false;
    return hostAccessGuard.explicitReads - start;
  };
  let value;
  try {
    value = fn();
  } catch (e) {
    done();
    throw e;
  }
  if (value && typeof value.then === 'function') {
    return value.then(
      (v) => ({ value: v, explicitReads: done() }),
      (e) => {
        done();
        throw e;
      },
    );
  }
  return { value, explicitReads: done() };
}
