#!/usr/bin/env node
// Builds the optional CUDA addon (build-cuda/Release/qarm_cuda.node) with cmake-js.
// Without nvcc (or with QARM_SKIP_CUDA=1) it prints why and exits 0: the CPU package is
// complete without it. With nvcc, any build failure exits non-zero, so CI catches a CUDA
// build break even on machines without a GPU.
// Environment: CUDACXX / CUDA_HOME / CUDA_PATH locate nvcc; QARM_CUDA_ARCHS overrides the
// architectures (default "80-real;90-real;90-virtual"); QARM_BUILD_JOBS (default 2).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => console.log(`[build:cuda] ${m}`);

function findNvcc() {
  const candidates = [
    process.env.CUDACXX,
    process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc'),
    process.env.CUDA_PATH && join(process.env.CUDA_PATH, 'bin', 'nvcc'),
  ].filter(Boolean);
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  for (const c of ['/usr/local/cuda/bin/nvcc', '/opt/cuda/bin/nvcc']) if (existsSync(c)) return c;
  return null;
}

if (process.env.QARM_SKIP_CUDA === '1') {
  say('QARM_SKIP_CUDA=1: skipping the CUDA addon.');
  process.exit(0);
}
const nvcc = findNvcc();
if (!nvcc) {
  say('nvcc not found (set CUDACXX or CUDA_HOME to build it): skipping the CUDA addon; qarm runs on the CPU.');
  process.exit(0);
}
const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (cmake.status !== 0) {
  say(`nvcc found at ${nvcc} but cmake is not installed: install CMake >= 3.18 to build the CUDA addon.`);
  process.exit(1);
}
say(`nvcc: ${nvcc}; ${cmake.stdout.split('\n')[0]}`);

const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = [
  cmakeJs, 'build',
  '--directory', root,
  '--out', join(root, 'build-cuda'),
  '--parallel', process.env.QARM_BUILD_JOBS || '2',
  '--prefer-make',
  `--CDCMAKE_CUDA_COMPILER=${nvcc}`,
];
if (process.env.QARM_CUDA_ARCHS) args.push(`--CDCMAKE_CUDA_ARCHITECTURES=${process.env.QARM_CUDA_ARCHS}`);
const t0 = Date.now();
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  say(`FAILED (exit ${r.status ?? r.signal})`);
  process.exit(r.status || 1);
}
say(`built build-cuda/Release/qarm_cuda.node in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
