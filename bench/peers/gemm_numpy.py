# OpenBLAS sgemm through numpy (Debian python3-numpy): median GFLOP/s per shape.
# argv[1]: JSON {"shapes": [[M, N, K, transA, transB], ...], "reps": int}
# Prints one JSON line: {"blas": "...", "gflops": [...]}.
import json
import sys
import time

import numpy as np

args = json.loads(sys.argv[1])
reps = int(args.get("reps", 7))
rng = np.random.default_rng(0)
out = []
for M, N, K, ta, tb in args["shapes"]:
    a = rng.standard_normal((K, M) if ta else (M, K), dtype=np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N), dtype=np.float32)
    opa = a.T if ta else a  # transposed views: numpy hands sgemm the trans flag, no copy
    opb = b.T if tb else b
    c = np.empty((M, N), dtype=np.float32)
    np.matmul(opa, opb, out=c)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(opa, opb, out=c)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    out.append(2.0 * M * N * K / ts[len(ts) // 2] / 1e9)
cfg = np.__config__
print(json.dumps({"numpy": np.__version__, "gflops": out}))
