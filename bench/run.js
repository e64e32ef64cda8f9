// Runs every benchmark suite in bench/suites/ (or those whose name contains an argument),
// each in its own process so one suite's memory and threads do not disturb the next.
// Each suite prints its table and writes bench/results/<suite>.md with the command and machine.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = new URL('./suites/', import.meta.url).pathname;
const filters = process.argv.slice(2);
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
let failed = 0;
for (const s of suites) {
  console.log(`\n=== ${s}`);
  const r = spawnSync(process.execPath, ['--expose-gc', dir + s], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
