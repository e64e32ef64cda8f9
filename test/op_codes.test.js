// The op codes both addons share (native/common/op_codes.h) against their TypeScript side
// (lib/tensor/op_codes.ts), read from the header itself; and the shared argument checks.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { q, assert, assertClose } from './helpers.js';
import { UNARY, BINARY, NEAREST_METRICS } from '../dist/tensor/op_codes.js';
import { native } from '../dist/tensor/native.js';
import { probeCuda } from '../dist/tensor/cuda/native_cuda.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const header = readFileSync(join(root, 'native/common/op_codes.h'), 'utf8');

/** `enum class Name : int { A = 0, B = 1, }` → { a: 0, b: 1 } (names lower-camel-cased). */
function enumOf(name) {
  const m = header.match(new RegExp(`enum class ${name}\\b[^{]*\\{([^}]*)\\}`));
  assert.ok(m, `enum ${name} not found in op_codes.h`);
  const out = {};
  for (const line of m[1].split('\n')) {
    const e = line
      .replace(/\/\/.*$/, '')
      .trim()
      .match(/^(\w+)\s*=\s*(\d+),?$/);
    if (!e) {
      assert.equal(line.replace(/\/\/.*$/, '').trim(), '', `unparsed line in ${name}: ${line}`);
      continue;
    }
    out[e[1][0].toLowerCase() + e[1].slice(1)] = Number(e[2]);
  }
  return out;
}

function constant(name) {
  const m = header.match(new RegExp(`constexpr int ${name} = (\\d+);`));
  assert.ok(m, `${name} not found in op_codes.h`);
  return Number(m[1]);
}

function nativeSources(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? nativeSources(p) : /\.(h|cc|cu|cuh)$/.test(f) ? [p] : [];
  });
}

describe('op codes shared by the addons', () => {
  it('unary and binary op codes in TypeScript equal the header', () => {
    assert.deepEqual(UNARY, enumOf('UnaryOp'));
    assert.deepEqual(BINARY, enumOf('BinaryOp'));
    assert.equal(Object.keys(UNARY).length, constant('kUnaryOpCount'));
    assert.equal(Object.keys(BINARY).length, constant('kBinaryOpCount'));
  });

  it('metric names in TypeScript equal the header, in enum order', () => {
    const m = header.match(/kMetricNames\[kMetricCount\] = \{([^}]*)\}/);
    assert.ok(m, 'kMetricNames not found');
    const names = [...m[1].matchAll(/"(\w+)"/g)].map((x) => x[1]);
    assert.deepEqual(names, [...NEAREST_METRICS]);
    const order = Object.entries(enumOf('Metric'))
      .sort((a, b) => a[1] - b[1])
      .map(([n]) => n);
    assert.deepEqual(order, ['l2', 'iP', 'cosine']); // L2, IP, Cosine lower-camel-cased
    assert.equal(names.length, constant('kMetricCount'));
  });

  it('no native file declares its own op or metric enum', () => {
    const own = nativeSources(join(root, 'native'))
      .filter((p) => !p.endsWith(join('common', 'op_codes.h')))
      .filter((p) => /enum\s+(class\s+)?(UnaryOp|BinaryOp|Metric)\b|enum\s+[UB]\s*\{/.test(readFileSync(p, 'utf8')));
    assert.deepEqual(own, []);
  });

  it('the CPU addon takes the metric by name and rejects an unknown one naming it', () => {
    const xs = [
      [1, 0],
      [3, 4],
      [0, 2],
    ];
    const cs = [
      [3, 4],
      [0, 1],
      [-1, 0],
    ];
    const dot = (u, v) => u[0] * v[0] + u[1] * v[1];
    const ref = {
      l2: (u, v) => dot(u, u) - 2 * dot(u, v) + dot(v, v),
      ip: (u, v) => -dot(u, v),
      cosine: (u, v) => 1 - dot(u, v) / Math.sqrt(dot(u, u) * dot(v, v)),
    };
    const x = Float32Array.from(xs.flat()),
      c = Float32Array.from(cs.flat());
    const idx = new Int32Array(3),
      dist = new Float32Array(3);
    for (const metric of NEAREST_METRICS) {
      native.nearest(x, 3, 2, c, 3, 1, metric, idx, dist);
      xs.forEach((u, r) => {
        const d = cs.map((v) => ref[metric](u, v));
        const best = d.indexOf(Math.min(...d));
        assert.equal(idx[r], best, `${metric} row ${r}`);
        assertClose([dist[r]], [d[best]], { msg: `${metric} row ${r}` });
      });
    }
    for (const bad of ['L2', 'manhattan', 1, undefined]) {
      assert.throws(
        () => native.nearest(x, 3, 2, c, 3, 1, bad, idx, dist),
        (e) => e instanceof q.ValueError && /argument 'metric' must be one of 'l2', 'ip', 'cosine'/.test(e.message),
        String(bad),
      );
    }
  });

  it('the CUDA addon reads the metric through the same check (no device needed)', function () {
    const { addon, reason } = probeCuda(false);
    if (!addon) {
      console.log(`      (skipped: ${reason})`);
      this.skip();
    }
    // The metric is read before the buffers: a bad name fails first, a good one reaches the buffer check.
    const call = (metric) => () => addon.nearest(1n, 1, 1, 1n, 1, 1, metric, 1n, 1n, false, 0);
    for (const bad of ['L2', 'manhattan', 1]) {
      assert.throws(call(bad), (e) => e instanceof q.ValueError && /argument 'metric' must be one of 'l2', 'ip', 'cosine'/.test(e.message), String(bad));
    }
    for (const good of NEAREST_METRICS) assert.throws(call(good), (e) => e instanceof q.DeviceError && /argument 'x'/.test(e.message), good);
  });

  it('the addon rejects an op code outside the header naming the op', () => {
    const a = new Float32Array(3),
      out = new Float32Array(3);
    assert.throws(
      () => native.unary(UNARY.reluGrad + 1, a, out, 3),
      (e) => e instanceof q.ValueError && /'op'/.test(e.message),
    );
    assert.throws(
      () => native.binary(BINARY.le + 1, a, [1], a, [1], out, [3]),
      (e) => e instanceof q.ValueError && /'op'/.test(e.message),
    );
    native.unary(UNARY.square, new Float32Array([1, -2, 3]), out, 3);
    assert.deepEqual([...out], [1, 4, 9]);
    native.binary(BINARY.le, new Float32Array([1, 5, 3]), [1], new Float32Array([2, 2, 3]), [1], out, [3]);
    assert.deepEqual([...out], [1, 0, 1]);
  });
});
