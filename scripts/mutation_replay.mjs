// Replays the survivors of a Stryker JSON report against the current dist file: applies each
// mutant's replacement (location mapped onto the current file by its unchanged line), runs the
// test command, records killed/survived, restores the file.
// Usage (from the repository root, after tsc; nothing else may rebuild dist/ meanwhile):
//   node scripts/mutation_replay.mjs report.json dist/quant/rvq.js "<mocha command>" out.json
// A timeout (120 s) counts as killed, as in Stryker. Do not kill it mid-run: the file is restored
// in a finally block, which a signal skips.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
const [report, file, command, outFile] = process.argv.slice(2);
const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
const entry = Object.entries(rep.files).find(([k]) => k.endsWith(file.replace(/^dist\//, '')) || k === file)[1];
const oldSrc = entry.source;
const pristine = fs.readFileSync(file, 'utf8');
const oldLines = oldSrc.split('\n');
const newLines = pristine.split('\n');
const lineStart = (lines, i) => lines.slice(0, i).reduce((a, l) => a + l.length + 1, 0);
const offset = (lines, line, col) => lineStart(lines, line - 1) + col - 1;
function map(m) {
  const { start, end } = m.location;
  const a = offset(oldLines, start.line, start.column),
    b = offset(oldLines, end.line, end.column);
  const snippet = oldSrc.slice(a, b);
  const old = oldLines[start.line - 1];
  let best = -1;
  newLines.forEach((l, i) => {
    if (l === old && (best < 0 || Math.abs(i - (start.line - 1)) < Math.abs(best - (start.line - 1)))) best = i;
  });
  if (best >= 0) {
    const s = lineStart(newLines, best) + start.column - 1;
    if (pristine.slice(s, s + snippet.length) === snippet) return { s, e: s + snippet.length, newLine: best + 1, snippet };
  }
  // the line changed: the snippet, if it occurs once within 12 lines
  const lo = lineStart(newLines, Math.max(0, start.line - 13)),
    hi = lineStart(newLines, Math.min(newLines.length, start.line + 12));
  const win = pristine.slice(lo, hi);
  const i = win.indexOf(snippet);
  if (i >= 0 && win.indexOf(snippet, i + 1) < 0)
    return { s: lo + i, e: lo + i + snippet.length, newLine: pristine.slice(0, lo + i).split('\n').length, snippet, moved: true };
  return null;
}
const run = () => spawnSync('bash', ['-c', command], { encoding: 'utf8', timeout: 120000 });
const base = run();
if (base.status !== 0) {
  console.error('unmutated run fails:\n' + base.stdout.slice(-3000) + base.stderr.slice(-2000));
  process.exit(2);
}
const results = [];
const survivors = entry.mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
try {
  for (const m of survivors) {
    const loc = `${m.location.start.line}:${m.location.start.column}`;
    const mp = map(m);
    if (!mp) {
      results.push({ loc, mutator: m.mutatorName, replacement: m.replacement, result: 'unmapped' });
      console.log(loc, 'unmapped');
      continue;
    }
    fs.writeFileSync(file, pristine.slice(0, mp.s) + m.replacement + pristine.slice(mp.e));
    const t0 = Date.now();
    const r = run();
    const result = r.error ? 'killed (timeout)' : r.status === 0 ? 'survived' : 'killed';
    fs.writeFileSync(file, pristine);
    const failing =
      (r.stdout ?? '')
        .match(/^\s+\d+\) .*$/gm)
        ?.slice(0, 3)
        .map((s) => s.trim()) ?? [];
    results.push({
      loc,
      newLine: mp.newLine,
      moved: !!mp.moved,
      mutator: m.mutatorName,
      original: mp.snippet,
      replacement: m.replacement,
      result,
      ms: Date.now() - t0,
      failing,
    });
    console.log(loc, '->', mp.newLine, m.mutatorName, JSON.stringify(m.replacement).slice(0, 50), result, Date.now() - t0, 'ms');
    fs.writeFileSync(outFile, JSON.stringify(results, null, 1));
  }
} finally {
  fs.writeFileSync(file, pristine);
}
const killed = results.filter((r) => r.result.startsWith('killed')).length;
console.log(
  `replayed ${results.length}: killed ${killed}, survived ${results.filter((r) => r.result === 'survived').length}, unmapped ${results.filter((r) => r.result === 'unmapped').length}`,
);
