"""PyTorch peer of bench/suites/embedding.js: index_add_ on the same shapes and index
distributions (indices and sources generated here with the same sizes; timings are median ms)."""
import json, sys, time
import numpy as np
import torch

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
R, D, B, reps = args["rows"], args["dim"], args["batch"], args["reps"]
rng = np.random.default_rng(0)
table = torch.zeros(R, D)
src = torch.from_numpy(rng.standard_normal((B, D), dtype=np.float32))
out = {}
for kind in args["kinds"]:
    if kind == "uniform":
        idx = rng.integers(0, R, B)
    else:  # zipf over rows, as the JS suite: floor((R+1)^u) - 1
        idx = np.minimum(R - 1, np.floor(np.power(R + 1, rng.random(B))) - 1).astype(np.int64)
    idx = torch.from_numpy(idx.astype(np.int64))
    table.index_add_(0, idx, src)  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        table.index_add_(0, idx, src)
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    out[kind] = ts[len(ts) // 2]
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ms": out}))
