// Runs peer implementations (FAISS, PyTorch, numpy/OpenBLAS) in Debian's own python3, where
// `apt-get install python3-faiss python3-torch python3-numpy` puts them, and says clearly
// when one is missing instead of failing the benchmark.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';

const CANDIDATES = ['/usr/bin/python3', 'python3'];

/** The python3 that can import `modules`, or null. */
export function findPython(modules) {
  for (const py of CANDIDATES) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

/**
 * Runs `bench/peers/<script>` with a JSON argument and returns its JSON stdout, or
 * `{ missing: '...' }` when the modules are not installed. OpenBLAS tuning variables that
 * this workplace sets for old-CPU safety are removed for the peer's process only, so the
 * peer runs its real kernels; threads are pinned to `threads`.
 */
export function runPeer(script, modules, args, threads) {
  const py = findPython(modules);
  if (!py) {
    const msg = `peer missing: python3 with ${modules.join(', ')} (apt-get install ${modules.map((m) => `python3-${m}`).join(' ')})`;
    console.log(`  [${msg}]`);
    return { missing: msg };
  }
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  for (const k of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS']) env[k] = String(threads);
  const r = spawnSync(py, [new URL(`../peers/${script}`, import.meta.url).pathname, JSON.stringify(args)], {
    encoding: 'utf8',
    env,
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    console.log(`  [peer ${script} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}]`);
    return { missing: `peer ${script} failed` };
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** One line describing the machine, for result files. */
export function machineLine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()}-${os.arch()}`;
}

/** Median of repeated timings (ms) of fn after `warmup` runs. */
export function timeMs(fn, { reps = 5, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** Renders rows (objects) as a Markdown table. */
export function markdownTable(rows) {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 1 : v >= 1 ? 2 : 3)) : String(v));
  return [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${cols.map((c) => fmt(r[c])).join(' | ')} |`)].join(
    '\n',
  );
}

/**
 * Starts `bench/peers/<script>` as a long-lived process that answers one JSON request per
 * stdin line with one JSON line, so a suite can alternate its own timed calls with the
 * peer's call by call (both then see the same machine load). Returns null when the
 * modules are missing. `request(obj)` resolves to the peer's answer; `close()` ends it.
 */
export function startPeer(script, modules, threads) {
  const py = findPython(modules);
  if (!py) {
    console.log(`  [peer missing: python3 with ${modules.join(', ')} (apt-get install ${modules.map((m) => `python3-${m}`).join(' ')})]`);
    return null;
  }
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  for (const k of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS']) env[k] = String(threads);
  return serveProcess(py, [new URL(`../peers/${script}`, import.meta.url).pathname, '--serve'], env, script);
}

/**
 * Spawns `cmd args` as a line-oriented JSON server (one request line in, one answer line
 * out). Used for peers and for running our own side in an equally idle process, so the
 * OS scheduler treats both sides of a comparison alike on a loaded machine.
 */
export function serveProcess(cmd, args, env, label = cmd) {
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiting = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      waiting.shift()?.resolve(JSON.parse(line));
    }
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${label} exited with ${code}`));
  });
  return {
    request(obj) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(JSON.stringify(obj) + '\n');
      });
    },
    close() {
      child.stdin.end();
    },
  };
}
