# OpenBLAS sgemm through numpy (Debian python3-numpy).
# Batch mode: argv[1] = JSON {"shapes": [[M, N, K, transA, transB], ...], "reps": int};
#   prints one JSON line {"numpy": version, "gflops": [median GFLOP/s per shape]}.
# Serve mode (--serve): each stdin line {"shape": [M, N, K, transA, transB], "reps": r}
#   answers {"seconds": [r wall times], "cpuSeconds": [r process CPU times]} (a new shape gets one untimed warm-up), so the caller can
#   alternate with its own calls under the same machine load.
import json
import sys
import time

import numpy as np

_cache = {}


def operands(shape):
    key = tuple(shape)
    if key not in _cache:
        M, N, K, ta, tb = shape
        rng = np.random.default_rng(0)
        a = rng.standard_normal((K, M) if ta else (M, K), dtype=np.float32)
        b = rng.standard_normal((N, K) if tb else (K, N), dtype=np.float32)
        # Transposed views: numpy hands sgemm the trans flag, no copy.
        _cache.clear()
        _cache[key] = (a.T if ta else a, b.T if tb else b, np.empty((M, N), dtype=np.float32))
    return _cache[key]


def timed(shape, reps):
    fresh = tuple(shape) not in _cache
    opa, opb, c = operands(shape)
    if fresh:
        np.matmul(opa, opb, out=c)  # warm-up (page faults, thread start)
    ts, cpu = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        np.matmul(opa, opb, out=c)
        ts.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return ts, cpu


if len(sys.argv) > 1 and sys.argv[1] == "--serve":
    for line in sys.stdin:
        req = json.loads(line)
        wall, cpu = timed(req["shape"], int(req.get("reps", 1)))
        print(json.dumps({"seconds": wall, "cpuSeconds": cpu}), flush=True)
else:
    args = json.loads(sys.argv[1])
    out = []
    for shape in args["shapes"]:
        ts = sorted(timed(shape, int(args.get("reps", 7)))[0])
        M, N, K = shape[:3]
        out.append(2.0 * M * N * K / ts[len(ts) // 2] / 1e9)
    print(json.dumps({"numpy": np.__version__, "gflops": out}))
