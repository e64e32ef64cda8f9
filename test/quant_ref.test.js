// k-means against Lloyd's algorithm in float64: from the same initial centroids, every
// iteration's objective, the final centroids, assignments and inertia must match a plain-JS
// reference (assign to the nearest centroid, ties to the lower index; move each centroid to the
// mean of its points; an empty cluster keeps its centroid).
import { q, assert, assertClose, randArray } from './helpers.js';

/** Lloyd's k-means in float64. Returns the objective before each update and the final state. */
function lloyd(x, N, D, init, k, iterations) {
  const c = Float64Array.from(init);
  const assign = new Int32Array(N);
  const history = [];
  const assignAll = () => {
    let total = 0;
    for (let i = 0; i < N; i++) {
      let best = 0,
        bestD = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let t = 0; t < D; t++) s += (x[i * D + t] - c[j * D + t]) ** 2;
        if (s < bestD) {
          bestD = s;
          best = j;
        }
      }
      assign[i] = best;
      total += bestD;
    }
    return total;
  };
  let empties = 0;
  for (let it = 0; it < iterations; it++) {
    history.push(assignAll());
    const sums = new Float64Array(k * D),
      counts = new Int32Array(k);
    for (let i = 0; i < N; i++) {
      counts[assign[i]]++;
      for (let t = 0; t < D; t++) sums[assign[i] * D + t] += x[i * D + t];
    }
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        empties++;
        continue;
      }
      for (let t = 0; t < D; t++) c[j * D + t] = sums[j * D + t] / counts[j];
    }
  }
  const inertia = assignAll();
  return { centroids: c, assignments: assign, inertia, history, empties };
}

/** Rows `ids` of x as a flat array (the initial centroids). */
const rowsOf = (x, D, ids) => Float32Array.from(ids.flatMap((i) => Array.from(x.subarray(i * D, i * D + D))));

describe('quant: kmeans against Lloyd in float64', () => {
  const cases = [
    // [N, D, k, iterations, data]
    [1, 1, 1, 3, () => randArray(1, 1)],
    [3, 2, 3, 4, () => randArray(6, 2)],
    [17, 3, 3, 10, () => randArray(51, 3)],
    [1000, 5, 17, 12, () => randArray(5000, 4)],
    [255, 33, 8, 6, () => randArray(255 * 33, 5, 10)],
    // Duplicated rows (ties between points, exact means): 40 rows drawn from 6 distinct ones.
    [
      40,
      4,
      4,
      8,
      () => {
        const base = randArray(24, 6);
        const x = new Float32Array(160);
        for (let i = 0; i < 40; i++) x.set(base.subarray(((i * 7) % 6) * 4, ((i * 7) % 6) * 4 + 4), i * 4);
        return x;
      },
    ],
  ];
  for (const [N, D, k, iterations, data] of cases) {
    it(`N=${N} D=${D} k=${k}: objective per iteration, centroids, assignments and inertia`, () => {
      const x = data();
      // Initial centroids: k distinct rows spread over the data (for the duplicates case, rows 0..k-1 are distinct).
      const ids = N === 40 ? [0, 1, 2, 3] : Array.from({ length: k }, (_, j) => Math.floor((j * N) / k));
      const init = rowsOf(x, D, ids);
      const ref = lloyd(x, N, D, init, k, iterations);
      assert.equal(ref.empties, 0, 'test data must not empty a cluster (the library splits those at random)');
      const r = q.kmeans(q.tensor(x, [N, D]), { k, iterations, init: q.tensor(init, [k, D]), maxPointsPerCentroid: 0 });
      assert.equal(r.splits, 0);
      assert.equal(r.history.length, iterations);
      assertClose(r.history, ref.history, { rtol: 1e-5, atol: 1e-5, msg: 'objective per iteration' });
      assertClose(r.centroids.toTypedArray(), ref.centroids, { rtol: 1e-5, atol: 1e-5, msg: 'centroids' });
      assert.deepEqual(Array.from(r.assignments.toTypedArray()), Array.from(ref.assignments), 'assignments');
      assertClose([r.inertia], [ref.inertia], { rtol: 1e-5, atol: 1e-5, msg: 'inertia' });
    });
  }

  it('the library keeps an empty cluster from the reference only by splitting it', () => {
    // A centroid far from every point empties at once: Lloyd keeps it, the library splits it
    // (FAISS rule), so its centroid moves into the data and no cluster ends empty.
    const N = 60,
      D = 2;
    const x = randArray(N * D, 8);
    const init = Float32Array.from([...x.subarray(0, 2), ...x.subarray(2, 4), 1e3, 1e3]);
    const ref = lloyd(x, N, D, init, 3, 5);
    assert.ok(ref.empties > 0);
    const r = q.kmeans(q.tensor(x, [N, D]), { k: 3, iterations: 5, init: q.tensor(init, [3, D]), maxPointsPerCentroid: 0 });
    assert.ok(r.splits > 0);
    const counts = [0, 0, 0];
    for (const a of r.assignments.toTypedArray()) counts[a]++;
    assert.ok(
      counts.every((n) => n > 0),
      `cluster sizes ${counts}`,
    );
  });
});
