// Every kernel the CPU backend registers must exist on CUDA too (so ops run unchanged after
// `.to('cuda')`). Names are read from the CPU kernel sources; the registry is asked on a GPU.
import { readdirSync, readFileSync } from 'node:fs';
import { requireGpu, q, assert } from './gpu.js';

describe('CUDA kernel coverage', () => {
  requireGpu();
  it('has a CUDA kernel for every CPU kernel', () => {
    const dir = new URL('../../lib/tensor/cpu/', import.meta.url);
    const names = new Set();
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.ts')) continue;
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/registerKernel\('([A-Za-z0-9_]+)',\s*'cpu'/g)) names.add(m[1]);
    }
    assert.ok(names.size > 20, `found only ${names.size} CPU kernels`);
    const missing = [...names].filter((n) => !q.hasKernel(n, 'cuda')).sort();
    assert.deepEqual(missing, [], `CPU kernels without a CUDA kernel: ${missing.join(', ')}`);
  });
});
