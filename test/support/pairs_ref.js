// The Map-based pair miners and pairRecall as they were before lib/align moved to ScoreMatrix
// (plain JS, kept verbatim in behaviour): the reference the fast code must match bit for bit.
// Not library code: tests only.

class MapAccumulator {
  constructor(n) {
    this.n = n;
    this.m = new Map();
  }
  add(i, j, w) {
    const key = i < j ? i * this.n + j : j * this.n + i;
    this.m.set(key, (this.m.get(key) ?? 0) + w);
  }
  table() {
    const t = Array.from({ length: this.n }, () => new Map());
    for (const k of [...this.m.keys()].sort((x, y) => x - y)) {
      const v = this.m.get(k);
      if (v === 0) continue;
      const i = Math.floor(k / this.n);
      const j = k - i * this.n;
      t[i].set(j, v);
      t[j].set(i, v);
    }
    return t;
  }
}

function byUser(events) {
  const m = new Map();
  for (const e of events) {
    let l = m.get(e.user);
    if (!l) m.set(e.user, (l = []));
    l.push(e);
  }
  return [...m.keys()].sort((a, b) => a - b).map((u) => m.get(u).sort((a, b) => a.time - b.time || a.item - b.item));
}

export function cooccurrence(events, nItems, opts = {}) {
  const sameBasket = opts.sameBasket ?? true;
  const window = opts.window ?? 0;
  const perUser = (opts.count ?? 'users') === 'users';
  const maxBasket = opts.maxBasket ?? 500;
  const acc = new MapAccumulator(nItems);
  for (const evs of byUser(events)) {
    const seen = perUser ? new Set() : null;
    const hit = (i, j) => {
      if (i === j) return;
      if (seen) {
        const key = i < j ? i * nItems + j : j * nItems + i;
        if (seen.has(key)) return;
        seen.add(key);
      }
      acc.add(i, j, 1);
    };
    if (sameBasket) {
      const baskets = new Map();
      for (const e of evs) {
        if (e.basket < 0) continue;
        let l = baskets.get(e.basket);
        if (!l) baskets.set(e.basket, (l = []));
        l.push(e.item);
      }
      for (const items of baskets.values()) {
        const u = [...new Set(items)];
        if (u.length > maxBasket) continue;
        for (let x = 0; x < u.length; x++) for (let y = x + 1; y < u.length; y++) hit(u[x], u[y]);
      }
    }
    if (window > 0) {
      for (let x = 0; x < evs.length; x++) {
        for (let y = x + 1; y < evs.length && evs[y].time - evs[x].time <= window; y++) {
          if (sameBasket && evs[x].basket >= 0 && evs[x].basket === evs[y].basket) continue;
          hit(evs[x].item, evs[y].item);
        }
      }
    }
  }
  return acc.table();
}

export function swing(events, nItems, opts = {}) {
  const alpha = opts.alpha ?? 1;
  const userAlpha = opts.userAlpha ?? 5;
  const useWeight = opts.userWeight ?? true;
  const maxItems = opts.maxItemsPerUser ?? 300;
  const userItems = [];
  for (const evs of byUser(events)) {
    const last = new Map();
    evs.forEach((e, k) => last.set(e.item, k));
    const recent = [...last.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, maxItems)
      .map(([i]) => i);
    userItems.push(Int32Array.from(recent).sort());
  }
  const w = userItems.map((s) => (useWeight ? 1 / Math.sqrt(s.length + userAlpha) : 1));
  const acc = new MapAccumulator(nItems);
  // All user pairs u < v, v in order of first shared item of u (then user id), as the miner
  // always visited them; the intersection by brute force.
  const itemUsers = Array.from({ length: nItems }, () => []);
  userItems.forEach((s, u) => s.forEach((i) => itemUsers[i].push(u)));
  for (let u = 0; u < userItems.length; u++) {
    const order = [];
    const seen = new Set();
    for (const i of userItems[u]) for (const v of itemUsers[i]) if (v > u && !seen.has(v)) (seen.add(v), order.push(v));
    for (const v of order) {
      const inV = new Set(userItems[v]);
      const common = [...userItems[u]].filter((i) => inV.has(i));
      if (common.length < 2) continue;
      const s = (w[u] * w[v]) / (alpha + common.length);
      for (let x = 0; x < common.length; x++) for (let y = x + 1; y < common.length; y++) acc.add(common[x], common[y], s);
    }
  }
  return acc.table();
}

export function cosineNormalize(table, itemCounts) {
  return table.map((m, i) => {
    const out = new Map();
    for (const [j, c] of m) {
      const d = Math.sqrt(itemCounts[i] * itemCounts[j]);
      if (d > 0) out.set(j, c / d);
    }
    return out;
  });
}

export function itemUserCounts(events, nItems) {
  const seen = new Set();
  const out = new Float64Array(nItems);
  for (const e of events) {
    if (!seen.has(e.user * nItems + e.item)) (seen.add(e.user * nItems + e.item), out[e.item]++);
  }
  return out;
}

export function user2item(events, nItems, similarity, opts = {}) {
  const L = opts.historyLength ?? 50;
  const acc = new MapAccumulator(nItems);
  for (const evs of byUser(events)) {
    const history = [];
    let k = 0;
    while (k < evs.length) {
      let end = k;
      while (end < evs.length && evs[end].time === evs[k].time) end++;
      const cand = history.slice(-L);
      for (let x = k; x < end; x++) {
        const t = evs[x].item;
        let best = -1;
        let bestS = 0;
        for (let c = cand.length - 1; c >= 0; c--) {
          const s = cand[c] === t ? 0 : (similarity[t].get(cand[c]) ?? 0);
          if (s > bestS) ((bestS = s), (best = cand[c]));
        }
        if (best >= 0) acc.add(best, t, 1);
      }
      for (let x = k; x < end; x++) {
        const pos = history.lastIndexOf(evs[x].item);
        if (pos >= 0) history.splice(pos, 1);
        history.push(evs[x].item);
      }
      if (history.length > 4 * L) history.splice(0, history.length - L);
      k = end;
    }
  }
  return acc.table();
}

export function selectPairs(table, opts = {}) {
  const topN = opts.topN ?? 20;
  const cap = opts.cap ?? 50;
  const minScore = opts.minScore ?? 0;
  const n = table.length;
  const cand = new Map();
  table.forEach((m, i) => {
    const best = [...m.entries()]
      .filter(([, s]) => s > minScore)
      .sort((x, y) => y[1] - x[1] || x[0] - y[0])
      .slice(0, topN);
    for (const [j, s] of best) cand.set(i < j ? i * n + j : j * n + i, s);
  });
  const sorted = [...cand.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const used = new Int32Array(n);
  const a = [],
    b = [],
    sc = [];
  for (const [key, s] of sorted) {
    const i = Math.floor(key / n);
    const j = key - i * n;
    if (used[i] >= cap || used[j] >= cap) continue;
    (used[i]++, used[j]++);
    (a.push(i), b.push(j), sc.push(s));
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), score: Float32Array.from(sc) };
}

function unionPairs(sets, nItems) {
  const seen = new Set();
  const a = [],
    b = [],
    sc = [];
  for (const p of sets) {
    for (let k = 0; k < p.a.length; k++) {
      const i = Math.min(p.a[k], p.b[k]);
      const j = Math.max(p.a[k], p.b[k]);
      if (i === j || seen.has(i * nItems + j)) continue;
      seen.add(i * nItems + j);
      (a.push(i), b.push(j), sc.push(p.score[k]));
    }
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), score: Float32Array.from(sc) };
}

export function minePairs(events, nItems, opts = {}) {
  const miners = opts.miners ?? ['cooccurrence', 'swing', 'user2item'];
  const byMiner = {};
  let cooc = null;
  let sw = null;
  if (miners.includes('cooccurrence') || (miners.includes('user2item') && !miners.includes('swing'))) cooc = cooccurrence(events, nItems, opts.cooccurrence);
  if (miners.includes('cooccurrence')) byMiner.cooccurrence = selectPairs(cooc, opts);
  if (miners.includes('swing')) {
    sw = swing(events, nItems, opts.swing);
    byMiner.swing = selectPairs(sw, opts);
  }
  if (miners.includes('user2item')) {
    const sim = sw ?? cosineNormalize(cooc, itemUserCounts(events, nItems));
    byMiner.user2item = selectPairs(user2item(events, nItems, sim, opts.user2item), opts);
  }
  return { pairs: unionPairs(miners.map((m) => byMiner[m]).filter(Boolean), nItems), byMiner };
}

/** pairRecall's ranking as it was: per-target count for < 12 targets, else sort + binary search. */
export function pairRecall(scorer, n, pairs, ks = [10, 50]) {
  const targets = new Map();
  const push = (qi, t) => {
    let l = targets.get(qi);
    if (!l) targets.set(qi, (l = []));
    l.push(t);
  };
  for (let k = 0; k < pairs.a.length; k++) (push(pairs.a[k], pairs.b[k]), push(pairs.b[k], pairs.a[k]));
  const hits = new Float64Array(ks.length);
  for (const qi of [...targets.keys()].sort((x, y) => x - y)) {
    const row = scorer(Int32Array.of(qi));
    const ts = targets.get(qi);
    const count = (rank) => ks.forEach((k, x) => rank < k && hits[x]++);
    if (ts.length < 12) {
      for (const t of ts) {
        const v = row[t];
        let rank = -1;
        for (let j = 0; j < n; j++) if (row[j] >= v) rank++;
        if (row[qi] >= v) rank--;
        count(rank);
      }
      continue;
    }
    const sorted = Float32Array.from(row);
    sorted[qi] = -Infinity;
    sorted.sort();
    for (const t of ts) {
      let lo = 0,
        hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] < row[t]) lo = mid + 1;
        else hi = mid;
      }
      count(n - lo - 1);
    }
  }
  const total = 2 * pairs.a.length;
  const recall = {};
  ks.forEach((k, x) => (recall[k] = total ? hits[x] / total : NaN));
  return { recall, queries: total };
}
