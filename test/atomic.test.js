// Failure injection for writeFileAtomic: writes that fail part-way through the file, and
// after the file is complete but before (or at) the rename, must leave the old file byte for
// byte and no temp file behind. Failures come from the real OS (a file-size limit, EFBIG) and
// from node:fs functions replaced for one call through node:module's syncBuiltinESMExports,
// which updates the `node:fs` bindings that lib/data/atomic.ts imported; no seam in the library.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert } from './helpers.js';

const fs = createRequire(import.meta.url)('node:fs');
const dir = mkdtempSync(join(tmpdir(), 'qarm-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OLD = Buffer.from('the old contents, which must survive\n');

/** Runs fn with fs[name] replaced by wrap(original); restores it whatever happens. */
function withFs(name, wrap, fn) {
  const original = fs[name];
  fs[name] = wrap(original);
  syncBuiltinESMExports();
  try {
    return fn();
  } finally {
    fs[name] = original;
    syncBuiltinESMExports();
  }
}

function errno(code) {
  return Object.assign(new Error(`${code}: injected failure`), { code });
}

function expectOldFileKept(file, write, label) {
  assert.throws(write, (e) => e instanceof q.IOError && e.message.includes(file), label);
  assert.deepEqual(readFileSync(file), OLD, `${label}: the old file changed`);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    `${label}: temp file left behind`,
  );
}

describe('atomic writes under injected failures', () => {
  const file = join(dir, 'target.bin');
  const big = [Buffer.alloc(70000, 1), Buffer.alloc(50001, 2), Buffer.alloc(3, 3)];
  beforeEach(() => writeFileSync(file, OLD));

  it('a write that fails mid-file (short writes, then ENOSPC) keeps the old file', () => {
    for (const failAt of [1, 2, 3]) {
      let calls = 0,
        written = 0;
      withFs(
        'writeSync',
        (orig) =>
          (fd, buf, off, len, ...rest) => {
            if (++calls === failAt) throw errno('ENOSPC');
            // Short writes: the caller must loop, and part of the new file is on disk when it fails.
            const n = orig(fd, buf, off, Math.max(1, len >> 1), ...rest);
            written += n;
            return n;
          },
        () => expectOldFileKept(file, () => q.writeFileAtomic(file, big), `fail at write ${failAt}`),
      );
      assert.equal(calls, failAt, 'the injected failure was not reached');
      if (failAt > 1) assert.ok(written > 0, 'nothing reached the temp file before the failure');
    }
    // The same writes without the failure produce the whole new file (short writes handled).
    withFs(
      'writeSync',
      (orig) =>
        (fd, buf, off, len, ...rest) =>
          orig(fd, buf, off, Math.max(1, len >> 1), ...rest),
      () => q.writeFileAtomic(file, big),
    );
    assert.deepEqual(readFileSync(file), Buffer.concat(big));
  });

  it('a failure after the data is written (fsync, close, rename) keeps the old file', () => {
    for (const name of ['fsyncSync', 'closeSync', 'renameSync']) {
      let failed = false;
      withFs(
        name,
        (orig) =>
          (...args) => {
            if (!failed) {
              failed = true;
              throw errno(name === 'renameSync' ? 'EXDEV' : 'EIO');
            }
            return orig(...args);
          },
        () => expectOldFileKept(file, () => q.writeFileAtomic(file, big), name),
      );
      assert.ok(failed, `${name} was never called`);
    }
  });

  it('a real EFBIG from a file-size limit part-way through keeps the old file', function () {
    if (!existsSync('/bin/sh')) this.skip(); // needs a POSIX shell for ulimit
    // Node ignores SIGXFSZ, so writing past `ulimit -f` (in 1 KiB or 512 B blocks) fails with
    // EFBIG after the first blocks reached the temp file.
    const script = `import * as q from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      try { q.writeFileAtomic(process.argv[1], Buffer.alloc(1 << 20, 7)); console.log('written'); }
      catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -f 64 && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^IOError: .*target\.bin.*EFBIG/, r.stdout);
    assert.deepEqual(readFileSync(file), OLD);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
    );
  });
});
