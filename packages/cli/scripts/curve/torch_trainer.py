"""Learning-curve parity, the PyTorch side (docs/learning-curve-parity.md).

Reads what packages/cli/scripts/curve/ours.mjs wrote to DIR (initial weights, images, per-step
batches and DILEMMA draws, the held-out set and its draw) and trains the same model the same way:
the model semantics of ../shared/bench/dilemma_ref.py (timm ViT, no_embed_class, MoCo v3 build_mlp
heads with BatchNorm, momentum encoder) and the schedule of @dilemma/core's trainer
(packages/core/src/train: warm-up + cosine lr, cosine EMA momentum, AdamW without weight decay on
ndim <= 1 tensors, pos_embed and cls_token). Writes DIR/torch.jsonl (same lines as ours.jsonl) and
DIR/torch-final.{json,bin}.

    /usr/bin/python3 packages/cli/scripts/curve/torch_trainer.py DIR [--threads 1]
        [--init ours|torch] [--torch-init-for NAMES] [--recipe ours|det_learnability] [--tag NAME] [--stop-after N]
        [--perturb-ulp SEED]

--perturb-ulp SEED starts from the initial weights each moved 1 ulp up or down (PyTorch against
itself: the measured float32 drift baseline that compare.py holds ours to).

--init torch / --recipe det_learnability replace our initialisation / optimiser recipe by those of
../shared/bench/det_learnability.py; --torch-init-for a,b takes only the tensors whose name contains
a or b from that initialisation (for the slow-start study; not parity runs).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-6


# ---------------------------------------------------------------------------- model

class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, D = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q * self.hd ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, N, D))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))          # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=LN_EPS), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=LN_EPS), Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, chans, dim, p):
        super().__init__()
        self.proj = nn.Conv2d(chans, dim, p, stride=p)


class ViT(nn.Module):
    """timm VisionTransformer, global_pool='token', no_embed_class=True; `head` on the cls output."""

    def __init__(self, c, head=None):
        super().__init__()
        D, L = c["embedDim"], (c["imgSize"] // c["patchSize"]) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, L, D))
        self.patch_embed = PatchEmbed(c["inChans"], D, c["patchSize"])
        hidden = round(D * c["mlpRatio"])
        self.blocks = nn.Sequential(*[Block(D, c["numHeads"], hidden) for _ in range(c["depth"])])
        self.norm = nn.LayerNorm(D, eps=LN_EPS)
        self.head = head if head is not None else nn.Identity()

    def forward(self, img, real_pos=None, input_pos=None):
        """(head(cls) [B, *], patch outputs [B, K, D]); real_pos/input_pos [B, K] or None (dense)."""
        x = self.patch_embed.proj(img).flatten(2).transpose(1, 2)          # [B, L, D]
        pos = self.pos_embed
        if real_pos is not None:
            D = x.shape[-1]
            x = torch.gather(x, 1, real_pos.unsqueeze(-1).expand(-1, -1, D))
            pos = pos[0][input_pos]                                        # [B, K, D]
        x = x + pos
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0]), x[:, 1:]


def build_mlp(n, d_in, hidden, d_out):
    """MoCo v3: [Linear(no bias) -> BN -> ReLU] * (n-1) -> Linear(no bias) -> BN(affine=False)."""
    layers = []
    for i in range(n):
        a, b = d_in if i == 0 else hidden, d_out if i == n - 1 else hidden
        layers.append(nn.Linear(a, b, bias=False))
        layers += [nn.BatchNorm1d(b), nn.ReLU()] if i < n - 1 else [nn.BatchNorm1d(b, affine=False)]
    return nn.Sequential(*layers)


class Model(nn.Module):
    def __init__(self, cfg, variant):
        super().__init__()
        vit, D = cfg["vit"], cfg["vit"]["embedDim"]
        self.variant = variant
        if variant == "mocov3":
            self.base_encoder = ViT(vit, build_mlp(3, D, cfg["headHidden"], cfg["headOut"]))
            self.momentum_encoder = ViT(vit, build_mlp(3, D, cfg["headHidden"], cfg["headOut"]))
            self.predictor = build_mlp(2, cfg["headOut"], cfg["headHidden"], cfg["headOut"])
            for p in self.momentum_encoder.parameters():
                p.requires_grad = False
        else:
            self.base_encoder = ViT(vit)
        self.dilemma_head = nn.Linear(D, 1)


def contrastive(q, k, T):
    logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).t() / T
    return F.cross_entropy(logits, torch.arange(q.shape[0])) * (2 * T)


# ---------------------------------------------------------------------------- schedules (core's)

def cosine_lr(step, o):
    """packages/core/src/train/schedule.ts cosineLr (step 0-based)."""
    if step < o["warmupSteps"]:
        return o["lr"] * (step + 1) / o["warmupSteps"]
    span = max(1, o["totalSteps"] - o["warmupSteps"])
    t = min(1, (step - o["warmupSteps"]) / span)
    lo = o.get("minLr", 0) or 0
    return lo + (o["lr"] - lo) * 0.5 * (1 + math.cos(math.pi * t))


def momentum_at(step, base, total):
    t = min(1, step / max(1, total))
    return 1 - (1 - base) * (math.cos(math.pi * t) + 1) / 2


def det_learnability_lr(step, o):
    """../shared/bench/det_learnability.py: warm-up 20 times cosine, step 1-based."""
    s = step + 1
    return o["lr"] * min(1, s / 20) * 0.5 * (1 + math.cos(math.pi * s / o["totalSteps"]))


# ---------------------------------------------------------------------------- io

def read_weights(d, name):
    man = json.load(open(os.path.join(d, name + ".json")))
    raw = open(os.path.join(d, name + ".bin"), "rb").read()
    out, off = {}, 0
    for spec in (w for g in man["weightsManifest"] for w in g["weights"]):
        if spec["dtype"] != "float32":
            raise SystemExit(f"{name}: {spec['name']} is {spec['dtype']}, expected float32")
        n = int(np.prod(spec["shape"])) if spec["shape"] else 1
        out[spec["name"]] = torch.from_numpy(np.frombuffer(raw, np.float32, n, off).copy().reshape(spec["shape"]))
        off += 4 * n
    return out


def write_weights(d, name, named):
    specs, parts = [], []
    for n, t in named.items():
        a = t.detach().to(torch.float32).contiguous().numpy()
        specs.append({"name": n, "shape": list(a.shape), "dtype": "float32"})
        parts.append(a.tobytes())
    for suffix, data in ((".bin", b"".join(parts)),
                         (".json", json.dumps({"format": "dilemma-weights", "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}]}).encode())):
        tmp = os.path.join(d, f".{name}{suffix}.tmp")
        open(tmp, "wb").write(data)
        os.replace(tmp, os.path.join(d, name + suffix))


def auroc(scores, labels):
    """Mann-Whitney with ties as 1/2 (as core's detectionMetrics)."""
    order = np.argsort(scores, kind="stable")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels > 0
    npos, nneg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - npos * (npos + 1) / 2) / (npos * nneg))


# ---------------------------------------------------------------------------- torch-style init

def det_learnability_init(cfg):
    """What ../shared/bench/det_learnability.py gives the ViT and head: PyTorch module defaults
    (conv/linear kaiming-uniform weights and uniform biases, zero cls_token, default head), then
    pos_embed ~ N(0, 0.02) and every 2-D encoder weight trunc_normal(0.02)."""
    torch.manual_seed(cfg["seed"])  # the run's seed (det_learnability.py: 0)
    fresh = Model(cfg, "det")
    with torch.no_grad():
        fresh.base_encoder.pos_embed.normal_(0, 0.02)
        for _, p in fresh.base_encoder.named_parameters():
            if p.dim() == 2:
                nn.init.trunc_normal_(p, std=.02)
    return {k: v.detach().clone() for k, v in fresh.state_dict().items()}


# ---------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: steadiest on a shared 2-core machine)")
    ap.add_argument("--init", choices=["ours", "torch"], default="ours")
    ap.add_argument("--torch-init-for", default="", help="comma-separated name parts: these tensors get det_learnability.py's init")
    ap.add_argument("--perturb-ulp", type=int, metavar="SEED",
                    help="move every initial weight 1 ulp up or down at random (seeded): PyTorch against itself "
                         "from a float32-rounding-sized difference, the drift baseline for ours vs PyTorch")
    ap.add_argument("--recipe", choices=["ours", "det_learnability"], default="ours")
    ap.add_argument("--tag", default="torch", help="output name: DIR/<tag>.jsonl (default torch)")
    ap.add_argument("--stop-after", type=int, help="train this many steps of the schedule (default: as many as ours.jsonl)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    d = a.dir
    if not os.path.exists(os.path.join(d, "data.json")):
        ap.error(f"{d}/data.json not found: run packages/cli/scripts/curve/ours.mjs --out {d} first")
    meta = json.loads(open(os.path.join(d, "ours.jsonl")).readline())
    info = json.load(open(os.path.join(d, "data.json")))
    cfg, variant = meta["config"], info["variant"]
    if a.init == "torch" and variant != "det":
        ap.error("--init torch is for the detection-only variant (the det_learnability.py setup)")
    o = cfg["optim"]
    S, B, K, H, V, steps = info["size"], info["batch"], info["K"], info["heldout"], info["views"], info["steps"]
    images = torch.from_numpy(np.fromfile(os.path.join(d, "data.f32"), np.float32).reshape(-1, 3, S, S))
    batches = np.fromfile(os.path.join(d, "batches.i32"), np.int32).reshape(steps, B)
    draws = torch.from_numpy(np.fromfile(os.path.join(d, "draws.i32"), np.int32).astype(np.int64).reshape(steps, V, 2, B, K))
    labels = torch.from_numpy(np.fromfile(os.path.join(d, "draws.u8"), np.uint8).astype(np.float32).reshape(steps, V, B, K))
    heldout = np.fromfile(os.path.join(d, "heldout.i32"), np.int32)
    hpos = torch.from_numpy(np.fromfile(os.path.join(d, "heldout_draw.i32"), np.int32).astype(np.int64).reshape(2, H, K))
    hlab = np.fromfile(os.path.join(d, "heldout_draw.u8"), np.uint8)

    model = Model(cfg, variant)
    init = read_weights(d, "init") if a.init == "ours" else det_learnability_init(cfg)
    parts = [p for p in a.torch_init_for.split(",") if p]
    if parts:
        if variant != "det":
            ap.error("--torch-init-for is for the detection-only variant (the det_learnability.py setup)")
        other = det_learnability_init(cfg)
        picked = [n for n in init if any(p in n for p in parts)]
        if not picked:
            ap.error(f"--torch-init-for {a.torch_init_for}: no tensor name contains any of these")
        init.update({n: other[n] for n in picked})
    sd = model.state_dict()
    missing = [n for n in sd if n not in init and not n.endswith("num_batches_tracked")]
    unknown = [n for n in init if n not in sd]
    if missing or unknown:
        raise SystemExit(f"init weights do not fit the model: missing {missing[:5]}, unknown {unknown[:5]}")
    if a.perturb_ulp is not None:
        g = np.random.default_rng(a.perturb_ulp)
        for n, w in init.items():
            x = w.numpy()
            up = g.random(x.shape) < 0.5
            init[n] = torch.from_numpy(np.where(up, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf))).astype(np.float32))
    model.load_state_dict(init, strict=False)
    model.train()

    def view(idx, flip):
        x = images[torch.from_numpy(idx.astype(np.int64))]
        return (x.flip(-1) if flip else x).contiguous()

    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if a.recipe == "ours":
        decays = lambda n, p: p.dim() > 1 and not n.endswith("pos_embed") and not n.endswith("cls_token")
        lr_at = lambda s: cosine_lr(s, o)
    else:  # det_learnability.py: weight decay on everything, its own warm-up x cosine
        decays = lambda n, p: True
        lr_at = lambda s: det_learnability_lr(s, o)
    groups = [{"params": [p for n, p in trainable if decays(n, p)], "weight_decay": o["weightDecay"]},
              {"params": [p for n, p in trainable if not decays(n, p)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], foreach=False)

    def heldout_auroc():
        # eval mode: the projector's BatchNorm (run by base_encoder's head) must not update its
        # running statistics on held-out data (ours evaluates the encoder alone)
        out = []
        model.eval()
        with torch.no_grad():
            for i in range(0, H, 250):
                x = view(heldout[i:i + 250], False)
                _, tok = model.base_encoder(x, hpos[0, i:i + 250], hpos[1, i:i + 250])
                out.append(model.dilemma_head(tok).squeeze(-1).flatten().numpy())
        model.train()
        return auroc(np.concatenate(out), hlab)

    log = [json.dumps({"kind": "meta", "variant": variant, "engine": f"torch {torch.__version__}", "init": a.init, "torch_init_for": parts, "recipe": a.recipe})]
    log.append(json.dumps({"kind": "eval", "step": 0, "auroc": heldout_auroc()}))
    mom = ([(p_m, dict(model.base_encoder.named_parameters())[n]) for n, p_m in model.momentum_encoder.named_parameters()]
           if variant == "mocov3" else [])
    stop = min(steps, a.stop_after if a.stop_after is not None else meta.get("stopAfter", steps))
    every = meta.get("evalEvery", 25)
    t0 = time.time()
    for s in range(stop):
        lr = lr_at(s)
        for g in opt.param_groups:
            g["lr"] = lr
        x1 = view(batches[s], False)
        if variant == "mocov3":
            m = momentum_at(s, cfg["momentum"], o["totalSteps"])
            with torch.no_grad():
                for p_m, p_b in mom:
                    p_m.mul_(m).add_(p_b, alpha=1 - m)
                x2 = view(batches[s], True)
                k1, k2 = model.momentum_encoder(x1)[0], model.momentum_encoder(x2)[0]
            z1, t1 = model.base_encoder(x1, draws[s, 0, 0], draws[s, 0, 1])
            z2, t2 = model.base_encoder(x2, draws[s, 1, 0], draws[s, 1, 1])
            q1, q2 = model.predictor(z1), model.predictor(z2)
            T = cfg["temperature"]
            ssl = contrastive(q1, k2, T) + contrastive(q2, k1, T)
            dil = (F.binary_cross_entropy_with_logits(model.dilemma_head(t1).squeeze(-1), labels[s, 0])
                   + F.binary_cross_entropy_with_logits(model.dilemma_head(t2).squeeze(-1), labels[s, 1])) / 2
            loss = ssl + cfg["dilemmaWeight"] * dil
        else:
            _, t1 = model.base_encoder(x1, draws[s, 0, 0], draws[s, 0, 1])
            dil = F.binary_cross_entropy_with_logits(model.dilemma_head(t1).squeeze(-1), labels[s, 0])
            ssl, loss = torch.zeros(()), dil
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        log.append(json.dumps({"kind": "train", "step": s + 1, "loss": loss.item(), "ssl": ssl.item(), "dilemma": dil.item(), "lr": lr}))
        if (s + 1) % every == 0 or s + 1 == stop:
            au = heldout_auroc()
            log.append(json.dumps({"kind": "eval", "step": s + 1, "auroc": au}))
            print(f"step {s + 1}/{steps} loss {loss.item():.5f} AUROC {au:.4f} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    tmp = os.path.join(d, f".{a.tag}.jsonl.tmp")
    open(tmp, "w").write("\n".join(log) + "\n")
    os.replace(tmp, os.path.join(d, a.tag + ".jsonl"))
    write_weights(d, a.tag + "-final", {n: t for n, t in model.state_dict().items() if n in init})
    print(f"{a.tag}: {stop} steps in {time.time() - t0:.0f} s; wrote {d}/{a.tag}.jsonl", file=sys.stderr)


if __name__ == "__main__":
    main()
