// `npm run examples`: runs every example against the package as a user installs it. The
// tarball `npm pack` makes is unpacked into node_modules/qarm of an empty project outside the
// repository, next to links to the dependencies package.json declares (so an undeclared one
// fails), and each example runs there with `import ... from 'qarm'`. The native addon comes
// from the tarball's prebuilds/ when it has them, else from this checkout's build/Release (what
// `npm install` would compile). Needs dist/ built (the npm script compiles it first).
//
//   node examples/run.mjs [name ...]      (default: every examples/*.mjs but this one)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(here)
      .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
      .sort();
if (!existsSync(join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: run `npm run build:ts` first');

const work = mkdtempSync(join(tmpdir(), 'qarm-examples-'));
let failed = 0;
try {
  const t0 = performance.now();
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  const app = join(work, 'app');
  const scratch = join(work, 'tmp');
  mkdirSync(scratch);
  const installed = join(app, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', installed, '--strip-components=1']);
  const prebuilt = existsSync(join(installed, 'prebuilds')) && readdirSync(join(installed, 'prebuilds')).length > 0;
  if (!prebuilt) {
    const addon = join(root, 'build', 'Release', 'qarm.node');
    if (!existsSync(addon)) fail('no prebuilt binary in the tarball and no build/Release/qarm.node: run `npm run build:native`');
    mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
    copyFileSync(addon, join(installed, 'build', 'Release', 'qarm.node'));
  }
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    const from = join(root, 'node_modules', dep);
    if (!existsSync(from)) {
      if (dep in (pkg.optionalDependencies ?? {})) continue;
      fail(`dependency ${dep} is not installed: run \`npm ci\``);
    }
    mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
    symlinkSync(from, join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'qarm-examples', private: true, type: 'module' }));
  console.log(
    `packed ${tarball} and installed it in ${app} (addon: ${prebuilt ? 'prebuilds/' : 'build/Release'}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  for (const name of names) {
    copyFileSync(join(here, name), join(app, name));
    const t = performance.now();
    // Their scratch files (a demo .npy, a demo dataset folder) go to TMPDIR, removed below.
    const r = spawnSync(process.execPath, [name], { cwd: app, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TMPDIR: scratch } });
    const s = ((performance.now() - t) / 1000).toFixed(1);
    const ok = r.status === 0;
    if (!ok) failed++;
    console.log(`\n== ${name}: ${ok ? 'ok' : `FAILED (${r.signal ?? `exit ${r.status}`})`} in ${s} s`);
    process.stdout.write(indent(r.stdout));
    if (!ok || r.stderr.trim()) process.stdout.write(indent(r.stderr));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\n${names.length - failed} of ${names.length} examples passed`);
process.exit(failed ? 1 : 0);

function indent(text) {
  return text ? text.replace(/^/gm, '   ').replace(/\s*$/, '\n') : '';
}
function fail(msg) {
  console.error(`examples: ${msg}`);
  process.exit(1);
}
