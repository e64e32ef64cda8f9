"""PyTorch peer of bench/suites/ranker.js: the same ranker architecture (user/item ids, RQ
level embeddings, mean VQ bag, DIN target attention over a 50-item history whose items are
[item emb, sum of RQ level embs], target-aware cross features sharing the attention scores,
MLP tower), trained with sparse embeddings + SparseAdam and Adam for dense layers.
`attention`: 'concat' builds [q, k, q-k, q*k] as DIN implementations do; 'decomposed' uses
the same algebraic split of the first layer as qarm (same function, fewer FLOPs)."""
import json, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

a = json.loads(sys.argv[1])
torch.set_num_threads(a["threads"])
torch.manual_seed(0)
N_ITEMS, N_USERS, L, C, K, H, d, Bsz = a["items"], a["users"], a["levels"], a["codebook"], a["vq"], a["history"], a["dim"], a["batch"]
rng = np.random.default_rng(0)
rq = torch.from_numpy(rng.integers(0, C, (N_ITEMS, L)))
vq = torch.from_numpy(rng.integers(0, N_ITEMS, (N_ITEMS, K)))

class Ranker(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.user = nn.Embedding(N_USERS + 1, d, sparse=True)
        self.item = nn.Embedding(N_ITEMS + 1, d, sparse=True)
        self.rq = nn.ModuleList([nn.Embedding(C, d, sparse=True) for _ in range(L)])
        self.vq = nn.EmbeddingBag(N_ITEMS, d, mode="mean", sparse=True)
        kd = 2 * d
        self.kd = kd
        self.att1 = nn.Linear(4 * kd, 36)
        self.att2 = nn.Linear(36, 1)
        in_dim = d + d + L * d + d + kd + 2 * kd + 2
        self.tower = nn.Sequential(nn.Linear(in_dim, 200), nn.ReLU(), nn.Linear(200, 80), nn.ReLU(), nn.Linear(80, 1))

    def represent(self, ids):
        e = self.item(ids)
        c = rq[ids]
        s = sum(self.rq[l](c[..., l]) for l in range(L))
        return torch.cat([e, s], -1)

    def forward(self, user, item, hist, mask):
        B = user.shape[0]
        parts = [self.user(user), self.item(item)]
        tc = rq[item]
        parts += [self.rq[l](tc[:, l]) for l in range(L)]
        parts.append(self.vq(vq[item]))
        q = self.represent(item)                      # [B, kd]
        k = self.represent(hist) * mask.unsqueeze(-1)  # [B, H, kd], padding zeroed
        if self.mode == "concat":
            qe = q.unsqueeze(1).expand(-1, H, -1)
            h = torch.sigmoid(self.att1(torch.cat([qe, k, qe - k, qe * k], -1)))
        else:
            W = self.att1.weight
            Wq, Wk, Wd, Wp = W[:, :self.kd], W[:, self.kd:2 * self.kd], W[:, 2 * self.kd:3 * self.kd], W[:, 3 * self.kd:]
            h = torch.sigmoid((q @ (Wq + Wd).t() + self.att1.bias).unsqueeze(1) + k @ (Wk - Wd).t() + (q.unsqueeze(1) * k) @ Wp.t())
        s = self.att2(h).squeeze(-1)                   # [B, H]
        hc = rq[hist]
        m1 = ((hc[..., 0] == tc[:, None, 0]) & (mask > 0)).float()
        m12 = m1 * (hc[..., 1] == tc[:, None, 1]).float()
        w = torch.stack([s * mask, s * m1, s * m12], 1)  # [B, 3, H]
        pooled = torch.bmm(w, k).reshape(B, -1)
        counts = torch.stack([torch.log1p(m1.sum(1)), torch.log1p(m12.sum(1))], 1)
        x = torch.cat(parts + [pooled, counts], 1)
        return self.tower(x).squeeze(-1)

out = {}
cpu = {}
for mode in a["modes"]:
    torch.manual_seed(0)
    model = Ranker(mode)
    sparse = [p for n, p in model.named_parameters() if n.startswith(("user", "item", "rq", "vq"))]
    dense = [p for n, p in model.named_parameters() if not n.startswith(("user", "item", "rq", "vq"))]
    opt_s = torch.optim.SparseAdam(sparse, lr=1e-3)
    opt_d = torch.optim.Adam(dense, lr=1e-3)
    steps, warm = a["steps"], a["warmup"]
    batches = []
    for _ in range(steps + warm):
        lens = torch.from_numpy(rng.integers(1, H + 1, Bsz))
        mask = (torch.arange(H)[None, :] < lens[:, None]).float()
        hist = torch.from_numpy(rng.integers(0, N_ITEMS, (Bsz, H))) * mask.long()
        batches.append((torch.from_numpy(rng.integers(0, N_USERS, Bsz)), torch.from_numpy(rng.integers(0, N_ITEMS, Bsz)),
                        hist, mask, torch.from_numpy(rng.integers(0, 2, Bsz)).float()))
    for i, (u, it, hi, m, y) in enumerate(batches):
        if i == warm:
            t0 = time.perf_counter()
            c0 = time.process_time()
        logit = model(u, it, hi, m)
        loss = F.binary_cross_entropy_with_logits(logit, y)
        opt_s.zero_grad(); opt_d.zero_grad()
        loss.backward()
        opt_s.step(); opt_d.step()
    out[mode] = steps * Bsz / (time.perf_counter() - t0)
    cpu[mode] = steps * Bsz / (time.process_time() - c0)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "samplesPerSecond": out, "samplesPerCpuSecond": cpu}))
