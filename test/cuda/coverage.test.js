// Every kernel the CPU backend registers must exist on CUDA too (so ops run unchanged after
// `.to('cuda')`). The kernel table makes a missing one a compile error; this checks that the
// CUDA backend really registered them all on a GPU.
import { requireGpu, q, assert } from './gpu.js';

describe('CUDA kernel coverage', () => {
  requireGpu();
  it('has a CUDA kernel for every CPU kernel', () => {
    const names = q.kernelNames('cpu');
    assert.ok(names.length > 40, `found only ${names.length} CPU kernels`);
    assert.deepEqual(q.kernelNames('cuda'), names);
  });
});
