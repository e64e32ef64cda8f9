// ESLint for lib/ (`npm run lint`): typescript-eslint's recommended rules (syntax only: a
// type-aware run would type-check the tree a second time with TypeScript 6) and the layer rules
// of ARCHITECTURE.md as `no-restricted-imports`.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));

// What each layer may not import (ARCHITECTURE.md, "Layers"). Everything not listed is allowed;
// lib/errors.ts is open to every layer.
const forbidden = {
  tensor: ['dist', 'autograd', 'nn', 'data', 'quant', 'align', 'rank', 'pipeline'],
  dist: ['autograd', 'nn', 'data', 'quant', 'align', 'rank', 'pipeline'],
  autograd: ['dist', 'nn', 'data', 'quant', 'align', 'rank', 'pipeline'],
  nn: ['dist', 'data', 'quant', 'align', 'rank', 'pipeline'],
  data: ['dist', 'nn', 'quant', 'align', 'rank', 'pipeline'],
  quant: ['align', 'rank', 'pipeline'],
  align: ['quant', 'rank', 'pipeline'],
  rank: ['quant', 'align', 'pipeline'],
  pipeline: [],
};

// Only lib/tensor loads native code: the CPU addon through tensor/native.ts (node-gyp-build),
// the CUDA addon through tensor/cuda/native_cuda.ts. The one exception is lib/dist's MPI
// transport (dist/mpi_transport.ts), which calls the addon's MPI glue through tensor/native.ts.
const nativeLoaders = {
  regex: '(^|/)tensor/(native|cuda/native_cuda)\\.js$',
  message: 'only lib/tensor may load a native addon; call kernels through runKernel or an op (ARCHITECTURE.md)',
};
const cudaLoader = {
  regex: '(^|/)tensor/cuda/native_cuda\\.js$',
  message: 'only lib/tensor may load the CUDA addon (ARCHITECTURE.md)',
};
const nodeGypBuild = { name: 'node-gyp-build', message: 'only lib/tensor/native.ts loads the addon (ARCHITECTURE.md)' };

// A relative import resolves against the file's depth below lib/, so each (layer, depth) gets its
// own patterns: `../` from lib/quant/x.ts is lib/, from lib/nn/optim/x.ts it is lib/nn/.
function layerRules(layer, depth) {
  const up = '(\\.\\./){' + depth + '}';
  const patterns = [];
  const below = [...forbidden[layer]];
  if (below.length) {
    patterns.push({
      regex: `^${up}(${below.join('|')})(/|\\.js$)`,
      message: `lib/${layer} may not import ${below.join(', ')} (layers, ARCHITECTURE.md)`,
    });
  }
  // The package entry and the CLI sit above every layer.
  patterns.push({ regex: `^${up}(index|cli)\\.js$`, message: `lib/${layer} may not import the package entry or the CLI (ARCHITECTURE.md)` });
  if (layer !== 'tensor') patterns.push(nativeLoaders);
  return { paths: layer === 'tensor' ? [] : [nodeGypBuild], patterns };
}

// lib/dist/mpi_transport.ts: the dist layer's rules, but tensor/native.js allowed.
function mpiTransportRules() {
  const rules = layerRules('dist', 1);
  return { ...rules, patterns: [...rules.patterns.filter((p) => p !== nativeLoaders), cudaLoader] };
}

const layerConfigs = Object.keys(forbidden).flatMap((layer) =>
  [1, 2, 3].map((depth) => ({
    name: `qarm/layers/${layer}/${depth}`,
    files: [`lib/${layer}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: { 'no-restricted-imports': ['error', layerRules(layer, depth)] },
  })),
);

export default tseslint.config(
  { basePath: root },
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'docs/**', 'bench/**', 'examples/**', 'scripts/**', 'test/**'] },
  { files: ['lib/**/*.ts'], extends: [js.configs.recommended, ...tseslint.configs.recommended] },
  {
    name: 'qarm/lib',
    files: ['lib/**/*.ts'],
    rules: {
      // Unused arguments named _x are deliberate (a kernel signature that ignores its attrs).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  ...layerConfigs,
  {
    name: 'qarm/layers/dist/mpi_transport',
    files: ['lib/dist/mpi_transport.ts'],
    rules: { 'no-restricted-imports': ['error', mpiTransportRules()] },
  },
  {
    // lib/errors.ts is below everything; lib/cli.ts and lib/index.ts may import anything.
    name: 'qarm/layers/errors',
    files: ['lib/errors.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\./(?!errors\\.js$)', message: 'lib/errors.ts imports nothing of lib/' }] }] },
  },
);
