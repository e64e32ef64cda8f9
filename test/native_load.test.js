// Loading the native addon where no binary exists: the import fails with an IOError that says
// exactly how to build from source (the npm package carries a linux-x64 binary only).
import { spawnSync } from 'node:child_process';
import { assert } from './helpers.js';

describe('native addon: missing binary', () => {
  it('import fails with an IOError naming the platform and the build commands', function () {
    this.timeout(20000);
    const script = `try { await import('./dist/index.js'); console.log('loaded'); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
    // node-gyp-build reads the target from npm_config_arch; PREBUILDS_ONLY hides build/Release,
    // so this asks for a linux-arm64 prebuilt binary, which no checkout has.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      env: { ...process.env, PREBUILDS_ONLY: '1', npm_config_arch: 'arm64', QARM_ADDON_PATH: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    const err = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(err.name, 'IOError');
    assert.equal(err.code, 'ERR_QARM_IO');
    assert.match(err.message, new RegExp(`^qarm: no native addon for ${process.platform}-arm64\\b`));
    assert.match(err.message, /prebuilt binary for linux-x64 \(glibc\) only/);
    assert.match(err.message, /python3, make and a C\+\+17 compiler/);
    assert.match(err.message, /^ {2}npm rebuild qarm --ignore-scripts=false/m);
    assert.match(err.message, /^ {2}cd \/.+ && npx node-gyp rebuild$/m);
  });
});
