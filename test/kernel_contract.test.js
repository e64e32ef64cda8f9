// The kernel contract (lib/tensor/kernel_table.ts): every backend implements every kernel,
// calls are typed by the table, and a kernel is registered once per device.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { q, assert } from './helpers.js';
import { cpuKernels } from '../dist/tensor/cpu/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('kernel contract', () => {
  it('compiles exactly the calls and backends the table allows (test/contract/kernel_table.ts)', async function () {
    this.timeout(120000);
    // Every `@ts-expect-error` there must be a real type error, and every other line must compile.
    const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
    const run = promisify(execFile)(process.execPath, [tsc, '-p', 'test/contract'], { cwd: root });
    await run.catch((e) => assert.fail(`tsc -p test/contract failed:\n${e.stdout}${e.stderr}`));
  });

  it('registers the whole CPU backend, once', () => {
    const names = Object.keys(cpuKernels).sort();
    assert.ok(names.length > 40, `only ${names.length} CPU kernels`);
    assert.deepEqual(q.kernelNames('cpu'), names);
    for (const n of names) assert.ok(q.hasKernel(n, 'cpu'), n);
  });

  it('CUDA: each kernel is implemented by exactly one group, and the groups cover the CPU kernels', async () => {
    // Built against a stub addon: a group only closes over it, so no device is needed. A kernel
    // defined in two groups would be silently overridden by the later spread in cudaKernels.
    const { readdirSync } = await import('node:fs');
    const dir = new URL('../dist/tensor/cuda/', import.meta.url);
    const stub = new Proxy({}, { get: () => () => undefined });
    const owner = {};
    for (const f of readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .sort()) {
      const mod = await import(new URL(f, dir));
      for (const [name, group] of Object.entries(mod)) {
        if (!/^cuda\w*Kernels$/.test(name) || name === 'cudaKernels') continue;
        for (const k of Object.keys(typeof group === 'function' ? group(stub) : group)) {
          assert.ok(!owner[k], `${k} is in ${owner[k]} and ${f}:${name}`);
          owner[k] = `${f}:${name}`;
        }
      }
    }
    const { cudaKernels } = await import('../dist/tensor/cuda/index.js');
    assert.deepEqual(Object.keys(owner).sort(), Object.keys(cpuKernels).sort());
    assert.deepEqual(Object.keys(cudaKernels(stub)).sort(), Object.keys(cpuKernels).sort());
  });

  it('refuses a second registration of a kernel on a device and keeps the first', () => {
    const x = q.tensor([3, 4], [1, 2]);
    assert.throws(
      () => q.registerKernel('copy', 'cpu', () => q.zeros([1, 2])),
      (e) => e instanceof q.ValueError && /'copy' is already registered on cpu/.test(e.message),
    );
    assert.deepEqual([...q.runKernel('copy', { x }).toTypedArray()], [3, 4]);
  });

  it('names the kernel and device when a device has no such kernel', () => {
    const x = q.tensor([1], [1]);
    assert.throws(
      () => q.runKernel('noSuchKernel', { x }),
      (e) => e instanceof q.DeviceError && /'noSuchKernel'.*cpu/.test(e.message),
    );
  });

  it('runs a creation kernel on the device its attributes name, the CPU by default', () => {
    const t = q.runKernel('fill', {}, { shape: [3], value: 2.5 });
    assert.equal(t.device, 'cpu');
    assert.deepEqual([...t.toTypedArray()], [2.5, 2.5, 2.5]);
    const i = q.runKernel('fill', {}, { shape: [2], value: -7, dtype: 'int32', device: 'cpu' });
    assert.equal(i.dtype, 'int32');
    assert.deepEqual([...i.toTypedArray()], [-7, -7]);
  });
});
