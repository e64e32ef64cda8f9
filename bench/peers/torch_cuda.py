"""PyTorch-on-GPU peer for bench/cuda/run.js. Prints one JSON line.

Measures, on the same GPU as qarm: nearest codeword by x @ c.T (+ the l2 terms, folded into
addmm) and argmin / topk, chunked over rows so the N x K block fits; and one dense
ranker-like training step (embedding gather + MLP + BCE-with-logits + Adam) of the same
shapes as the qarm step. fp32 matmuls use allow_tf32 = False unless 'tf32' is requested.
"""
import json
import sys
import time

import torch


def timed(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    return ts[len(ts) // 2]


def nearest(a, tf32, k):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    g = torch.Generator(device="cuda").manual_seed(1)
    N, K, D, chunk = a["N"], a["K"], a["D"], a["chunk"]
    x = torch.rand(N, D, device="cuda", generator=g) - 0.5
    c = torch.rand(K, D, device="cuda", generator=g) - 0.5
    c_sq = (c * c).sum(1)
    ct = c.t().contiguous()
    out_i = torch.empty(N, k, dtype=torch.int64, device="cuda")

    def run():
        for r0 in range(0, N, chunk):
            xc = x[r0:r0 + chunk]
            d = torch.addmm(c_sq, xc, ct, beta=1, alpha=-2)  # ||c||^2 - 2 x.c (row term is constant)
            if k == 1:
                out_i[r0:r0 + chunk, 0] = d.argmin(1)
            else:
                out_i[r0:r0 + chunk] = d.topk(k, dim=1, largest=False).indices

    return timed(run, a["reps"])


def ranker(a):
    torch.backends.cuda.matmul.allow_tf32 = False
    B, V, E, F, H1, H2 = a["B"], a["V"], a["E"], a["F"], a["H1"], a["H2"]
    g = torch.Generator(device="cuda").manual_seed(2)
    emb = (torch.rand(V, E, device="cuda", generator=g) - 0.5).mul_(0.1).requires_grad_()
    w1 = (torch.rand(F * E, H1, device="cuda", generator=g) - 0.5).mul_(0.1).requires_grad_()
    b1 = torch.zeros(H1, device="cuda", requires_grad=True)
    w2 = (torch.rand(H1, H2, device="cuda", generator=g) - 0.5).mul_(0.1).requires_grad_()
    b2 = torch.zeros(H2, device="cuda", requires_grad=True)
    w3 = (torch.rand(H2, 1, device="cuda", generator=g) - 0.5).mul_(0.1).requires_grad_()
    ids = torch.randint(0, V, (B, F), device="cuda", generator=g)
    y = torch.randint(0, 2, (B, 1), device="cuda", generator=g).float()
    opt = torch.optim.Adam([emb, w1, b1, w2, b2, w3], lr=1e-3)

    def step():
        h = emb[ids].reshape(B, F * E)
        h = torch.relu(h @ w1 + b1)
        h = torch.relu(h @ w2 + b2)
        z = h @ w3
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return timed(step, a["reps"], warmup=3)


def main():
    a = json.loads(sys.argv[1])
    if not torch.cuda.is_available():
        print(json.dumps({"missing": "torch %s has no usable CUDA device (torch.version.cuda = %s)" % (torch.__version__, torch.version.cuda)}))
        return
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}
    out["nearest_fp32_k1_ms"] = nearest(a["nearest"], False, 1)
    out["nearest_tf32_k1_ms"] = nearest(a["nearest"], True, 1)
    out["nearest_fp32_k25_ms"] = nearest(a["nearest"], False, 25)
    out["ranker_step_ms"] = ranker(a["ranker"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
