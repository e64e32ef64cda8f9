#!/usr/bin/python3
"""FAISS (and numpy sgemm) side of bench/suites/quant.js.

argv[1]: JSON {threads, dir, search: [{N, K, D, k, metric, reps}], kmeans: [{N, K, D, iters}], gemm: {M, N, K}}
The data are the .npy files the suite wrote to `dir` (x_<N>_<D>.npy, c_<K>_<D>.npy), so both
sides search and cluster identical arrays. Prints one JSON line: timings in ms (best of reps; the machine is shared and noisy).
"""
import json
import os
import sys
import time

import numpy as np
import faiss

args = json.loads(sys.argv[1])
faiss.omp_set_num_threads(int(args['threads']))
d = args['dir']
cache = {}


def load(name):
    if name not in cache:
        cache[name] = np.ascontiguousarray(np.load(os.path.join(d, name)), dtype=np.float32)
    return cache[name]


def best_ms(fn, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    return min(ts)


out = {'faiss': faiss.__version__, 'numpy': np.__version__, 'search': [], 'kmeans': []}
for cfg in args.get('search', []):
    x = load('x_%d_%d.npy' % (cfg['N'], cfg['D']))
    c = load('c_%d_%d.npy' % (cfg['K'], cfg['D']))
    index = faiss.IndexFlatL2(cfg['D']) if cfg['metric'] == 'l2' else faiss.IndexFlatIP(cfg['D'])
    index.add(c)
    index.search(x[:256], cfg['k'])  # warm-up
    res = {}

    def run():
        res['D'], res['I'] = index.search(x, cfg['k'])
    ms = best_ms(run, cfg.get('reps', 3))
    # first-column agreement is checked by the suite from these few rows
    out['search'].append({'ms': ms, 'I0': res['I'][:64, 0].tolist()})

for cfg in args.get('kmeans', []):
    x = load('x_%d_%d.npy' % (cfg['N'], cfg['D']))
    km = faiss.Kmeans(cfg['D'], cfg['K'], niter=cfg['iters'], seed=cfg.get('seed', 1), max_points_per_centroid=256,
                      verbose=False, spherical=False)
    t = time.perf_counter()
    km.train(x)
    total = (time.perf_counter() - t) * 1e3
    obj = [float(v) for v in km.obj]
    # final objective on all rows (what our `inertia` reports)
    Dd, _ = km.index.search(x, 1)
    out['kmeans'].append({'ms': total, 'msPerIter': total / cfg['iters'], 'obj': obj, 'inertia': float(Dd.sum(dtype=np.float64))})

g = args.get('gemm')
if g:
    a = np.random.default_rng(0).standard_normal((g['M'], g['K']), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((g['K'], g['N']), dtype=np.float32)
    a @ b
    ms = best_ms(lambda: a @ b, 5)
    out['gemm'] = {'ms': ms, 'gflops': 2.0 * g['M'] * g['N'] * g['K'] / ms / 1e6}
print(json.dumps(out))
