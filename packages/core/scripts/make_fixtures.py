#!/usr/bin/env python3
"""Writes a set of DILEMMA parity fixtures (test/fixtures/README.md format) at chosen sizes.

Every case is computed with PyTorch in float64 from inputs and parameters drawn, rounded to
float32, and used in float64, then stored as float32: the same kinds and tensor names as the set
in test/fixtures (vit_dilemma, moco, simclr, dino, adamw), at other sizes, so the parity tests
can be pointed at it:

    /usr/bin/python3 scripts/make_fixtures.py --out /tmp/fx --embed-dim 48 --depth 3 \\
        --img-size 24 --patch-size 4 --batch 6
    DILEMMA_FIXTURES=/tmp/fx npx vitest run test/parity test/model

Model semantics are those of the fixture README (timm ViT with no_embed_class, DILEMMA
embedding, MoCo v3 projector / predictor with training-mode BatchNorm).
"""
import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

LN_EPS = 1e-6
BN_EPS = 1e-5
TOLERANCE = {  # the shipped set's per-kind tolerances (README: float32 vs float64, with headroom)
    "vit_dilemma": {"rtol": 1e-5, "atol": 1e-7},
    "moco": {"rtol": 1e-4, "atol": 1e-5},
    "simclr": {"rtol": 2e-6, "atol": 1e-8},
    "dino": {"rtol": 2e-6, "atol": 1e-8},
    "adamw": {"rtol": 2e-6, "atol": 1e-8},
}


class Draw:
    """Seeded draws, rounded to float32 and returned as float64 (exact in both)."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, *shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=self.g, dtype=torch.float64) * std + mean).float().double()

    def uniform(self, *shape, lo=0.0, hi=1.0):
        return (torch.rand(*shape, generator=self.g, dtype=torch.float64) * (hi - lo) + lo).float().double()


def vit_params(cfg, d, prefix=""):
    """timm VisionTransformer parameters in state_dict order (random, not timm's init: any
    values test the arithmetic; norms near 1 keep LayerNorm well conditioned)."""
    D, C, p, Dh = cfg["embed_dim"], cfg["in_chans"], cfg["patch_size"], int(cfg["embed_dim"] * cfg["mlp_ratio"])
    L = (cfg["img_size"] // p) ** 2
    out = {
        "cls_token": d.normal(1, 1, D, std=0.5),
        "pos_embed": d.normal(1, L, D, std=0.5),
        "patch_embed.proj.weight": d.normal(D, C, p, p, std=1.0 / math.sqrt(C * p * p)),
        "patch_embed.proj.bias": d.normal(D, std=0.1),
    }
    for i in range(cfg["depth"]):
        b = f"blocks.{i}."
        out.update({
            b + "norm1.weight": d.normal(D, std=0.1, mean=1.0), b + "norm1.bias": d.normal(D, std=0.1),
            b + "attn.qkv.weight": d.normal(3 * D, D, std=1.0 / math.sqrt(D)), b + "attn.qkv.bias": d.normal(3 * D, std=0.1),
            b + "attn.proj.weight": d.normal(D, D, std=1.0 / math.sqrt(D)), b + "attn.proj.bias": d.normal(D, std=0.1),
            b + "norm2.weight": d.normal(D, std=0.1, mean=1.0), b + "norm2.bias": d.normal(D, std=0.1),
            b + "mlp.fc1.weight": d.normal(Dh, D, std=1.0 / math.sqrt(D)), b + "mlp.fc1.bias": d.normal(Dh, std=0.1),
            b + "mlp.fc2.weight": d.normal(D, Dh, std=1.0 / math.sqrt(Dh)), b + "mlp.fc2.bias": d.normal(D, std=0.1),
        })
    out["norm.weight"] = d.normal(D, std=0.1, mean=1.0)
    out["norm.bias"] = d.normal(D, std=0.1)
    return {prefix + k: v for k, v in out.items()}


def patch_embed(P, x, cfg, pre=""):
    y = F.conv2d(x, P[pre + "patch_embed.proj.weight"], P[pre + "patch_embed.proj.bias"], stride=cfg["patch_size"])
    return y.flatten(2).transpose(1, 2)  # [B, L, D], l = row * grid + col


def dilemma_embed(P, patches, real_pos, input_pos, pre=""):
    D = patches.shape[-1]
    gathered = torch.gather(patches, 1, real_pos.long().unsqueeze(-1).expand(-1, -1, D))
    return gathered + P[pre + "pos_embed"][0][input_pos.long()]


def encode(P, embed, cfg, pre=""):
    """cls concat, blocks, final LayerNorm: all tokens [B, 1 + K, D]."""
    B, _, D = embed.shape
    H = cfg["num_heads"]
    x = torch.cat([P[pre + "cls_token"].expand(B, -1, -1), embed], 1)
    N = x.shape[1]
    for i in range(cfg["depth"]):
        b = f"{pre}blocks.{i}."
        h = F.layer_norm(x, (D,), P[b + "norm1.weight"], P[b + "norm1.bias"], LN_EPS)
        qkv = (h @ P[b + "attn.qkv.weight"].T + P[b + "attn.qkv.bias"]).reshape(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-2, -1) * (D // H) ** -0.5, -1)
        h = (a @ v).transpose(1, 2).reshape(B, N, D)
        x = x + h @ P[b + "attn.proj.weight"].T + P[b + "attn.proj.bias"]
        h = F.layer_norm(x, (D,), P[b + "norm2.weight"], P[b + "norm2.bias"], LN_EPS)
        h = F.gelu(h @ P[b + "mlp.fc1.weight"].T + P[b + "mlp.fc1.bias"])  # exact (erf) GELU
        x = x + h @ P[b + "mlp.fc2.weight"].T + P[b + "mlp.fc2.bias"]
    return F.layer_norm(x, (D,), P[pre + "norm.weight"], P[pre + "norm.bias"], LN_EPS)


def dense_view(B, L):
    ids = torch.arange(L, dtype=torch.int32).expand(B, L).contiguous()
    return ids, ids


def sample_positions(d, B, L, K, p):
    noise = d.uniform(B, L)
    label_rand = d.uniform(B, K)
    ids = torch.argsort(noise, dim=1)
    real_pos = ids[:, :K]
    labels = label_rand < p
    corrupt = ids[:, -K:] if K < L else torch.flip(ids, [1])
    input_pos = torch.where(labels, corrupt, real_pos)
    return {
        "noise": noise, "label_rand": label_rand, "ids_shuffle": ids.int(), "real_pos": real_pos.int(),
        "input_pos": input_pos.int(), "labels": labels.double(),
    }


def num_kept(L, token_drop):
    return int(L * (1 - token_drop))


class Case:
    def __init__(self, name, kind, description, config):
        self.name, self.kind, self.description = name, kind, description
        self.config = dict(config, kind=kind)
        self.tensors = {}

    def put(self, name, t):
        self.tensors[name] = t.detach()

    def write(self, root):
        folder = os.path.join(root, self.name)
        manifest = {"case": self.name, "description": self.description, "config": self.config, "tensors": {},
                    "tolerance": TOLERANCE[self.kind]}
        for name, t in self.tensors.items():
            is_int = t.dtype in (torch.int32, torch.int64)
            arr = t.to(torch.int32 if is_int else torch.float32).contiguous()
            file = name + ".bin"
            os.makedirs(os.path.dirname(os.path.join(folder, file)), exist_ok=True)
            tmp = os.path.join(folder, file + ".tmp")
            with open(tmp, "wb") as f:
                f.write(arr.numpy().astype("<i4" if is_int else "<f4").tobytes())
            os.replace(tmp, os.path.join(folder, file))
            manifest["tensors"][name] = {"file": file, "dtype": "int32" if is_int else "float32", "shape": list(arr.shape)}
        tmp = os.path.join(folder, "manifest.json.tmp")
        with open(tmp, "w") as f:
            json.dump(manifest, f, indent=1)
        os.replace(tmp, os.path.join(folder, "manifest.json"))


def vit_case(name, cfg, B, token_drop, p, seed, dense_plain):
    d = Draw(seed)
    L = (cfg["img_size"] // cfg["patch_size"]) ** 2
    K = num_kept(L, token_drop)
    P = vit_params(cfg, d)
    P["dilemma_head.weight"] = d.normal(1, cfg["embed_dim"], std=0.3)
    P["dilemma_head.bias"] = d.normal(1, std=0.1)
    image = d.normal(B, cfg["in_chans"], cfg["img_size"], cfg["img_size"])
    s = sample_positions(d, B, L, K, p)
    leaves = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    img = image.clone().requires_grad_(True)
    pe = patch_embed(leaves, img, cfg)
    embed = dilemma_embed(leaves, pe, s["real_pos"], s["input_pos"])
    embed.retain_grad()
    tokens = encode(leaves, embed, cfg)
    logits = (tokens[:, 1:] @ leaves["dilemma_head.weight"].T + leaves["dilemma_head.bias"])[..., 0]
    loss = F.binary_cross_entropy_with_logits(logits, s["labels"])
    loss.backward()
    c = Case(name, "vit_dilemma", f"DILEMMA ViT forward/backward, B {B}, L {L}, K {K}, p {p} (make_fixtures.py)", {
        "vit": dict(cfg, num_patches=L, mlp_hidden_dim=int(cfg["embed_dim"] * cfg["mlp_ratio"]), layer_norm_eps=LN_EPS),
        "batch": B, "token_drop_rate": token_drop, "dilemma_probability": p, "num_kept": K,
        "num_corrupted": int(s["labels"].sum().item()), "seed": seed,
        "corruption": "ids_shuffle[:, -K:]" if K < L else "flip(ids_shuffle)", "include_plain_dense_forward": dense_plain,
    })
    for k, v in P.items():
        c.put(k, v)
    c.put("input/image", image)
    for k in ["noise", "label_rand", "real_pos", "input_pos", "labels"]:
        c.put("input/" + k, s[k])
    c.put("expected/ids_shuffle", s["ids_shuffle"])
    c.put("expected/patch_embed", pe)
    c.put("expected/embed", embed)
    c.put("expected/tokens", tokens)
    c.put("expected/cls", tokens[:, 0])
    c.put("expected/dilemma_logits", logits)
    c.put("expected/dilemma_loss", loss)
    if dense_plain:
        with torch.no_grad():
            ids, _ = dense_view(B, L)
            c.put("expected/plain_tokens", encode(P, dilemma_embed(P, patch_embed(P, image, cfg), ids, ids), cfg))
    c.put("grad/input/image", img.grad)
    c.put("grad/embed", embed.grad)
    for k in P:
        c.put("grad/" + k, leaves[k].grad)
    return c


def mlp_params(d, prefix, dims, last_bn_affine=False):
    """Linear(no bias) / BatchNorm1d / ReLU stack; indices as nn.Sequential numbers them."""
    out, idx = {}, 0
    for i in range(len(dims) - 1):
        out[f"{prefix}{idx}.weight"] = d.normal(dims[i + 1], dims[i], std=1.0 / math.sqrt(dims[i]))
        last = i == len(dims) - 2
        if not last or last_bn_affine:
            out[f"{prefix}{idx + 1}.weight"] = d.normal(dims[i + 1], std=0.1, mean=1.0)
            out[f"{prefix}{idx + 1}.bias"] = d.normal(dims[i + 1], std=0.1)
        idx += 3
    return out


def apply_mlp(P, prefix, x, layers):
    idx = 0
    for i in range(layers):
        x = x @ P[f"{prefix}{idx}.weight"].T
        last = i == layers - 1
        w, b = P.get(f"{prefix}{idx + 1}.weight"), P.get(f"{prefix}{idx + 1}.bias")
        x = F.batch_norm(x, None, None, w, b, training=True, eps=BN_EPS)  # biased variance
        if not last:
            x = F.relu(x)
        idx += 3
    return x


def ctr(q, k, T):
    logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / T
    return F.cross_entropy(logits, torch.arange(q.shape[0])) * 2 * T


def moco_case(name, cfg, B, token_drop, p, lam, hidden, dim, T, seed):
    d = Draw(seed)
    L = (cfg["img_size"] // cfg["patch_size"]) ** 2
    K = num_kept(L, token_drop)
    D = cfg["embed_dim"]
    sparse = p > 0
    P = vit_params(cfg, d, "base_encoder.")
    P.update(mlp_params(d, "base_encoder.head.", [D, hidden, hidden, dim]))
    P.update(vit_params(cfg, d, "momentum_encoder."))
    P.update(mlp_params(d, "momentum_encoder.head.", [D, hidden, hidden, dim]))
    P.update(mlp_params(d, "predictor.", [dim, hidden, dim]))
    if sparse:
        P["dilemma_head.weight"] = d.normal(1, D, std=0.3)
        P["dilemma_head.bias"] = d.normal(1, std=0.1)
    x = [d.normal(B, cfg["in_chans"], cfg["img_size"], cfg["img_size"]) for _ in range(2)]
    views = [sample_positions(d, B, L, K, p) for _ in range(2)] if sparse else None
    leaves = {k: v.clone().requires_grad_(not k.startswith("momentum_encoder.")) for k, v in P.items()}
    q, kk, dl, logits = [], [], [], []
    for v in range(2):
        pe = patch_embed(leaves, x[v], cfg, "base_encoder.")
        rp, ip = (views[v]["real_pos"], views[v]["input_pos"]) if sparse else dense_view(B, L)
        tok = encode(leaves, dilemma_embed(leaves, pe, rp, ip, "base_encoder."), cfg, "base_encoder.")
        q.append(apply_mlp(leaves, "predictor.", apply_mlp(leaves, "base_encoder.head.", tok[:, 0], 3), 2))
        if sparse:
            lg = (tok[:, 1:] @ leaves["dilemma_head.weight"].T + leaves["dilemma_head.bias"])[..., 0]
            logits.append(lg)
            dl.append(F.binary_cross_entropy_with_logits(lg, views[v]["labels"]))
        with torch.no_grad():
            ids, _ = dense_view(B, L)
            mtok = encode(P, dilemma_embed(P, patch_embed(P, x[v], cfg, "momentum_encoder."), ids, ids, "momentum_encoder."), cfg, "momentum_encoder.")
            kk.append(apply_mlp(P, "momentum_encoder.head.", mtok[:, 0], 3))
    con = ctr(q[0], kk[1], T) + ctr(q[1], kk[0], T)
    loss = con + lam * (dl[0] + dl[1]) / 2 if sparse else con
    loss.backward()
    c = Case(name, "moco", f"MoCo v3{' + DILEMMA' if sparse else ' (plain, dense)'}, B {B}, L {L}, K {K} (make_fixtures.py)", {
        "vit": dict(cfg, num_patches=L, mlp_hidden_dim=int(D * cfg["mlp_ratio"]), layer_norm_eps=LN_EPS),
        "moco": {"dim": dim, "mlp_dim": hidden, "T": T, "dilemma_probability": p, "token_drop_rate": token_drop, "dilemma_lambda": lam},
        "batch": B, "seed": seed, "num_kept": K, "batch_norm_eps": BN_EPS, "batch_norm_mode": "train (batch statistics, biased variance)",
    })
    for k, v in P.items():
        c.put(k, v)
    c.put("input/x1", x[0])
    c.put("input/x2", x[1])
    if sparse:
        for v in range(2):
            for k in ["noise", "label_rand", "real_pos", "input_pos", "labels"]:
                c.put(f"input/{k}{v + 1}", views[v][k])
    c.put("expected/q1", q[0])
    c.put("expected/q2", q[1])
    c.put("expected/k1", kk[0])
    c.put("expected/k2", kk[1])
    c.put("expected/con_loss", con)
    if sparse:
        c.put("expected/dilemma_loss1", dl[0])
        c.put("expected/dilemma_loss2", dl[1])
        c.put("expected/dilemma_logits1", logits[0])
        c.put("expected/dilemma_logits2", logits[1])
    c.put("expected/loss", loss)
    for k in P:
        if not k.startswith("momentum_encoder."):
            c.put("grad/" + k, leaves[k].grad)
    return c


def simclr_case(N, dim, T, seed):
    d = Draw(seed)
    z = d.normal(2 * N, dim).requires_grad_(True)
    zn = F.normalize(z, dim=1)
    sim = zn @ zn.T / T
    sim = sim.masked_fill(torch.eye(2 * N, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(N, 2 * N), torch.arange(0, N)])
    loss = F.cross_entropy(sim, target)
    loss.backward()
    c = Case("simclr_ntxent", "simclr", f"SimCLR NT-Xent on z [{2 * N}, {dim}] (make_fixtures.py)", {"batch": N, "dim": dim, "temperature": T, "seed": seed})
    c.put("input/z", z)
    c.put("expected/loss", loss)
    c.put("grad/input/z", z.grad)
    return c


def dino_case(B, K, n_crops, n_global, ts, tt, m, seed):
    d = Draw(seed)
    student = d.normal(n_crops * B, K, std=2.0).requires_grad_(True)
    teacher = d.normal(n_global * B, K, std=2.0)
    center = d.normal(1, K, std=0.5)
    s = F.log_softmax(student / ts, -1).chunk(n_crops)
    t = F.softmax((teacher - center) / tt, -1).chunk(n_global)
    total, pairs = 0, 0
    for iq in range(n_global):
        for v in range(n_crops):
            if v == iq:
                continue
            total = total + torch.sum(-t[iq] * s[v], -1).mean()
            pairs += 1
    loss = total / pairs
    loss.backward()
    c = Case("dino_loss", "dino", f"DINO loss, B {B}, K {K}, {n_crops} crops ({n_global} global) (make_fixtures.py)", {
        "batch": B, "out_dim": K, "n_crops": n_crops, "n_global_crops": n_global, "student_temp": ts, "teacher_temp": tt,
        "center_momentum": m, "seed": seed})
    c.put("input/student", student)
    c.put("input/teacher", teacher)
    c.put("input/center", center)
    c.put("expected/loss", loss)
    c.put("expected/center", m * center + (1 - m) * teacher.mean(0, keepdim=True))
    c.put("grad/input/student", student.grad)
    return c


def adamw_case(cfg, seed, lr=0.01, betas=(0.9, 0.999), eps=1e-8, wd=0.1, step_before=9):
    d = Draw(seed)
    D, L = cfg["embed_dim"], (cfg["img_size"] // cfg["patch_size"]) ** 2
    shapes = {"pos_embed": (1, L, D), "blocks.0.attn.qkv.weight": (3 * D, D), "blocks.0.attn.qkv.bias": (3 * D,), "norm.weight": (D,)}
    c = Case("adamw_step", "adamw", f"One torch.optim.AdamW step at step {step_before} -> {step_before + 1}, and a first step (make_fixtures.py)", {
        "param_names": list(shapes), "lr": lr, "betas": list(betas), "eps": eps, "weight_decay": wd,
        "step_before": step_before, "amsgrad": False, "seed": seed})
    params = {n: d.normal(*s) for n, s in shapes.items()}
    grads = {}
    for n, s in shapes.items():  # mixed scales 1e-4..1, one exact zero per tensor
        g = d.normal(*s) * torch.pow(10.0, -d.uniform(*s, lo=0.0, hi=4.0))
        g = g.float().double().flatten()
        g[0] = 0.0
        grads[n] = g.reshape(s)
    state = {n: (d.normal(*s, std=0.01), d.uniform(*s, lo=1e-8, hi=1e-3)) for n, s in shapes.items()}
    for n in shapes:
        c.put(n, params[n])
    for n in shapes:
        c.put("grad/" + n, grads[n])
    for n in shapes:
        c.put("input/exp_avg/" + n, state[n][0])
        c.put("input/exp_avg_sq/" + n, state[n][1])

    def run(with_state):
        ps = [params[n].clone().requires_grad_(True) for n in shapes]
        opt = torch.optim.AdamW(ps, lr=lr, betas=betas, eps=eps, weight_decay=wd)
        for p, n in zip(ps, shapes):
            p.grad = grads[n].clone()
            if with_state:
                opt.state[p] = {"step": torch.tensor(float(step_before), dtype=torch.float64),
                                "exp_avg": state[n][0].clone(), "exp_avg_sq": state[n][1].clone()}
        opt.step()
        return ps, opt

    ps, opt = run(True)
    for p, n in zip(ps, shapes):
        c.put("expected/" + n, p)
        c.put("expected/exp_avg/" + n, opt.state[p]["exp_avg"])
        c.put("expected/exp_avg_sq/" + n, opt.state[p]["exp_avg_sq"])
    ps1, _ = run(False)
    for p, n in zip(ps1, shapes):
        c.put("expected/first_step/" + n, p)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder to write the case folders into")
    ap.add_argument("--img-size", type=int, default=24)
    ap.add_argument("--patch-size", type=int, default=4)
    ap.add_argument("--in-chans", type=int, default=3)
    ap.add_argument("--embed-dim", type=int, default=48)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--token-drop", type=float, default=0.5)
    ap.add_argument("--dilemma-prob", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=2001)
    a = ap.parse_args()
    if a.img_size % a.patch_size or a.embed_dim % a.heads:
        ap.error("--img-size must be a multiple of --patch-size and --embed-dim of --heads")
    torch.set_default_dtype(torch.float64)
    cfg = {"img_size": a.img_size, "in_chans": a.in_chans, "patch_size": a.patch_size, "embed_dim": a.embed_dim,
           "depth": a.depth, "num_heads": a.heads, "mlp_ratio": a.mlp_ratio}
    B, s = a.batch, a.seed
    cases = [
        vit_case("vit_dilemma_forward_backward", cfg, B, a.token_drop, a.dilemma_prob, s + 1, False),
        vit_case("vit_dense_forward", cfg, max(2, B // 2), 0.0, a.dilemma_prob, s + 2, True),
        moco_case("moco_v3_dilemma_loss", cfg, B + 2, a.token_drop, a.dilemma_prob, 1.0, 2 * a.embed_dim, a.embed_dim // 2, 0.2, s + 3),
        moco_case("moco_v3_plain_loss", cfg, B + 2, 0.0, 0.0, 1.0, 2 * a.embed_dim, a.embed_dim // 2, 0.2, s + 4),
        simclr_case(B, a.embed_dim // 2, 0.5, s + 5),
        dino_case(B, a.embed_dim // 2, 4, 2, 0.1, 0.04, 0.9, s + 6),
        adamw_case(cfg, s + 7),
    ]
    os.makedirs(a.out, exist_ok=True)
    for c in cases:
        c.write(a.out)
        print(f"{c.name}: {len(c.tensors)} tensors")


if __name__ == "__main__":
    main()
