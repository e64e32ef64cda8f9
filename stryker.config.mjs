// StrykerJS mutation testing (`npm run mutation`, outside `npm test`).
//
// How mutants reach the tests: the suite imports the compiled dist/*.js, and tsc emits one
// dist file per lib/*.ts file with the same statements, so Stryker mutates dist/<module>.js
// directly (after a fresh `tsc`) and runs the module's focused mocha command with the built-in
// command runner. Mutating lib/*.ts would need a TypeScript build per mutant inside the sandbox;
// the mocha runner plugin does not support the mocha 12 we use. The command runner runs the
// whole focused command per mutant (no per-test coverage), so each module gets a command that
// takes about a second. Line numbers in the reports are dist lines (the .js.map maps them back).
//
// One module per run: QARM_MUTATION_MODULE picks it (scripts/mutation.sh loops over them).
const mocha = 'node node_modules/mocha/bin/mocha.js --no-config --timeout 60000';
// A fixed fuzz seed keeps the fuzz properties' verdict on a mutant reproducible.
const fuzz = 'QARM_FUZZ_SEED=20261129 QARM_FUZZ_RUNS=1000';

export const modules = {
  metrics: {
    mutate: ['dist/rank/metrics.js'],
    command: `${mocha} test/rank.test.js test/metrics.test.js --grep "^metrics"`,
  },
  npy: {
    mutate: ['dist/data/npy.js'],
    command: `${fuzz} ${mocha} test/io.test.js test/io_corrupt.test.js test/files.test.js test/fuzz.test.js --grep "npy"`,
  },
  safetensors: {
    mutate: ['dist/data/safetensors.js'],
    command: `${fuzz} ${mocha} test/io.test.js test/io_corrupt.test.js test/files.test.js test/fuzz.test.js --grep "safetensors"`,
  },
  // lib/quant in three runs, each with only the tests that reach its files, so each mutant
  // costs a few seconds rather than the whole quant suite.
  'quant-kmeans': {
    mutate: ['dist/quant/kmeans.js', 'dist/quant/balanced.js'],
    command: `${mocha} test/quant_kmeans.test.js test/quant_ref.test.js test/quant_balanced.test.js test/quant_kmeans_kernels.test.js test/quant_kmeans_errors.test.js test/quant_balanced_ref.test.js test/quant_kmeans_paths.test.js`,
  },
  // The capacity-constrained assignment behind kmeans({ balanced }) is plain JS with hot loops,
  // which Stryker's instrumentation slows several-fold; its own run keeps the kmeans run fast
  // and gives it the tests that call it directly.
  'quant-balanced': {
    mutate: ['dist/tensor/balanced_assign.js'],
    command: `${mocha} test/quant_balanced.test.js test/quant_balanced_ref.test.js test/quant_kmeans_kernels.test.js --grep "balancedAssign"`,
  },
  'quant-codes': {
    mutate: ['dist/quant/vq_codes.js', 'dist/quant/rqkmeans.js', 'dist/quant/residual.js', 'dist/quant/nearest.js'],
    command: `${mocha} test/quant_kmeans.test.js test/quant_nearest.test.js test/quant_balanced.test.js test/host_free.test.js test/files.test.js test/quant_codes_errors.test.js`,
  },
  'quant-rvq': {
    mutate: ['dist/quant/rvq.js'],
    command: `${mocha} test/quant_rvq.test.js test/quant_vq_state_kernels.test.js test/host_free.test.js test/quant_rvq_errors.test.js`,
  },
  protocol: {
    mutate: ['dist/pipeline/protocol.js', 'dist/pipeline/protocol_split.js'],
    command: `${mocha} test/pipeline_protocol.test.js test/pipeline_protocol_ref.test.js`,
  },
  features: {
    mutate: ['dist/pipeline/features.js'],
    command: `${mocha} test/pipeline_features.test.js test/pipeline_codes.test.js`,
  },
};

const name = process.env.QARM_MUTATION_MODULE ?? 'metrics';
const mod = modules[name];
if (!mod) throw new Error(`QARM_MUTATION_MODULE=${name}: expected one of ${Object.keys(modules).join(', ')}`);

export default {
  testRunner: 'command',
  commandRunner: { command: mod.command },
  mutate: mod.mutate,
  coverageAnalysis: 'off',
  // 2 shared cores: one mutant at a time.
  concurrency: 1,
  // Generous: on the shared 2-core machine a 1.6 s command can run several times slower, and a
  // slow run counted as a timeout would count as a killed mutant.
  timeoutMS: 15000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  // One sandbox per module, so modules can run side by side.
  tempDirName: `.stryker-tmp-${name}`,
  // The sandbox needs dist/, build/ (the addon), test/, scripts/ (tests import some) and
  // node_modules (symlinked); not the rest.
  ignorePatterns: ['.stryker-tmp*', 'bench', 'scripts/lint', 'native', 'build-*', 'reports', 'qarm-*', '.qarm-cache'],
  cleanTempDir: 'always',
  // Nothing here is type-checked (dist/ is plain JS): no `// @ts-nocheck` insertion, and no
  // tsconfig rewrite (its TypeScript-API path does not work with the TypeScript 7 we use).
  disableTypeChecks: false,
  tsconfigFile: 'no-tsconfig-in-the-sandbox.json',
};
