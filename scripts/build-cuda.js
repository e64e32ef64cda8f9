#!/usr/bin/env node
// Builds the optional CUDA addon (build-cuda/Release/qarm_cuda.node) with cmake-js.
// Without nvcc (or with QARM_SKIP_CUDA=1) it prints why and exits 0: the CPU package is
// complete without it. With nvcc, any build failure exits non-zero, so CI catches a CUDA
// build break even on machines without a GPU.
// Environment: CUDACXX / CUDA_HOME / CUDA_PATH locate nvcc; QARM_CUDA_ARCHS overrides the
// architectures (default "80-real;90-real;90-virtual"); QARM_BUILD_JOBS (default 2).
// Without cmake (or with QARM_PLAIN_NVCC=1) it compiles with nvcc and c++ directly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
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
if (cmake.status !== 0 || process.env.QARM_PLAIN_NVCC === '1') {
  say(`nvcc found at ${nvcc} (cmake unavailable or QARM_PLAIN_NVCC=1): building with nvcc directly`);
  process.exit(plainNvccBuild(nvcc));
}
say(`nvcc: ${nvcc}; ${cmake.stdout.split('\n')[0]}`);

const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = [
  cmakeJs,
  'build',
  '--directory',
  root,
  '--out',
  join(root, 'build-cuda'),
  '--parallel',
  process.env.QARM_BUILD_JOBS || '2',
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

// The same build without CMake: one nvcc/c++ invocation per source (two at a time), then an
// nvcc link, with the flags CMakeLists.txt uses. Used only when cmake is missing.
function plainNvccBuild(nvcc) {
  const req = createRequire(import.meta.url);
  const napiInc = req('node-api-headers').include_dir;
  const addonInc = req('node-addon-api').include_dir.replace(/"/g, '');
  const archs = (process.env.QARM_CUDA_ARCHS || '80-real;90-real;90-virtual').split(/[;,\s]+/).filter(Boolean);
  const gencode = [];
  for (const a of archs) {
    const [num, kind] = a.split('-');
    if (kind === 'virtual') gencode.push(`-gencode=arch=compute_${num},code=compute_${num}`);
    else gencode.push(`-gencode=arch=compute_${num},code=sm_${num}`);
  }
  const out = join(root, 'build-cuda', 'Release');
  const objDir = join(root, 'build-cuda', 'obj');
  mkdirSync(out, { recursive: true });
  mkdirSync(objDir, { recursive: true });
  const list = (dir, ext) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith(ext))
      .map((f) => join(dir, f));
  const cu = list('native/cuda', '.cu');
  const cc = [...list('native/cuda', '.cc'), ...list('native/binding/cuda', '.cc'), 'native/binding/args.cc'];
  const defs = ['-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS'];
  const jobs = [
    ...cu.map((f) => [
      nvcc,
      ['-O3', '-std=c++17', '-Xcompiler=-fPIC,-fvisibility=hidden', ...gencode, '-c', f, '-o', join(objDir, `${f.replace(/\//g, '_')}.o`)],
    ]),
    ...cc.map((f) => [
      'c++',
      [
        '-O3',
        '-std=c++17',
        '-fPIC',
        '-fvisibility=hidden',
        `-I${napiInc}`,
        `-I${addonInc}`,
        `-I${join(dirname(dirname(realpathSync(nvcc))), 'include')}`,
        ...defs,
        '-c',
        f,
        '-o',
        join(objDir, `${f.replace(/\//g, '_')}.o`),
      ],
    ]),
  ];
  for (const [cmd, args] of jobs) {
    say(`${cmd} ... ${args[args.indexOf('-c') + 1]}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
    if (r.status !== 0) return r.status || 1;
  }
  const objs = jobs.map(([, args]) => args[args.length - 1]);
  const r = spawnSync(nvcc, ['-shared', '-o', join(out, 'qarm_cuda.node'), ...objs, '-cudart=static', '-ldl', '-lrt', '-lpthread'], {
    stdio: 'inherit',
    cwd: root,
  });
  if (r.status === 0) say('built build-cuda/Release/qarm_cuda.node (plain nvcc)');
  return r.status || 0;
}
