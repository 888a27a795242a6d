"""How far TF32 / bf16 matrix products move one MoCo v3 + DILEMMA step's gradients, on a CPU.

Evidence for the step-parity tolerances of docs/cuda-engine.md: the `cuda` engine computes
every matrix product (forward and backward) from inputs rounded to TF32 (10-bit mantissa) or
bf16 (7-bit) with fp32 accumulation and fp32 everything else. This emulates exactly that on
shared/bench/dilemma_ref.py's model (same architecture as @dilemma/core's) in PyTorch on the
CPU: every Linear, attention product and the patch embedding run through a matmul whose
operands (and, in the backward, the incoming gradient) are rounded first. The reference is the
same step in float64; fp32 itself is reported as the floor. Metrics are cuda-check.mjs's:
losses |d|/|ref|; per parameter ||d|| / max(||ref||, 1% of its share of the global norm).

  /usr/bin/python3 emulate_precision.py [--img 224 --patch 16 --batch 16 --seeds 2]
"""

import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "bench"))
import dilemma_ref as ref  # noqa: E402

MODE = {"p": "fp32"}


def rounded(x):
    """x rounded to the mode's operand precision (round to nearest even), as float."""
    p = MODE["p"]
    if p in ("fp32", "fp64"):
        return x
    if p == "bf16":
        return x.to(torch.bfloat16).to(x.dtype)
    # tf32: keep 10 mantissa bits of the float32 pattern, rounded to nearest even ("tf32") or
    # truncated ("tf32-trunc", in case the hardware conversion truncates: twice the error, biased)
    i = x.float().contiguous().view(torch.int32)
    if p == "tf32":
        lsb = (i >> 13) & 1
        i = i + 0x0FFF + lsb
    i = i & ~0x1FFF
    return i.view(torch.float32).to(x.dtype)


class RMatMul(torch.autograd.Function):
    """a @ b with rounded operands; the backward's two products round theirs too."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rounded(a) @ rounded(b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        g = rounded(g)
        da = g @ rounded(b).transpose(-1, -2)
        db = rounded(a).transpose(-1, -2) @ g
        # batch broadcasting (a weight shared over the batch): sum over the broadcast dims
        while db.dim() > b.dim():
            db = db.sum(0)
        return da, db


def rlinear(x, w, b=None):
    y = RMatMul.apply(x, w.t())
    return y if b is None else y + b


def attn_forward(self, x):
    B, N, D = x.shape
    qkv = rlinear(x, self.qkv.weight, self.qkv.bias).reshape(B, N, 3, self.num_heads, self.head_dim)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
    attn = RMatMul.apply(q * self.scale, k.transpose(-2, -1)).softmax(dim=-1)
    out = RMatMul.apply(attn, v).transpose(1, 2).reshape(B, N, D)
    return rlinear(out, self.proj.weight, self.proj.bias)


def patch_forward(self, img):
    w = self.proj.weight  # [D, C, p, p]
    p = w.shape[-1]
    cols = F.unfold(img, p, stride=p).transpose(1, 2)     # [B, L, C*p*p], same order as w's
    return rlinear(cols, w.reshape(w.shape[0], -1), self.proj.bias)


ref.Attention.forward = attn_forward
ref.PatchEmbed.forward = patch_forward
torch.nn.Linear.forward = lambda self, x: rlinear(x, self.weight, self.bias)


def step_grads(model, x1, x2, v1, v2, mcfg):
    model.zero_grad(set_to_none=True)
    with torch.no_grad():
        k1, k2 = model.key(x1), model.key(x2)
    q1, d1, _ = model.query(x1, *v1)
    q2, d2, _ = model.query(x2, *v2)
    con = model.contrastive_loss(q1, k2) + model.contrastive_loss(q2, k1)
    loss = con + mcfg.dilemma_lambda * (d1 + d2) / 2
    loss.backward()
    grads = {n: p.grad.detach().double().clone() for n, p in model.named_parameters() if p.grad is not None}
    return {"loss": loss.item(), "ssl": con.item(), "dilemma": ((d1 + d2) / 2).item()}, grads


def compare(ref_l, ref_g, l, g):
    losses = {k: abs(l[k] - ref_l[k]) / abs(ref_l[k]) for k in ref_l}
    total = sum(v.numel() for v in ref_g.values())
    gnorm = math.sqrt(sum(float((v * v).sum()) for v in ref_g.values()))
    per = {}
    for n, r in ref_g.items():
        floor = 0.01 * gnorm * math.sqrt(r.numel() / total)
        per[n] = float((g[n] - r).norm()) / max(float(r.norm()), floor)
    worst = sorted(per.items(), key=lambda kv: -kv[1])
    glob = math.sqrt(sum(float(((g[n] - r) ** 2).sum()) for n, r in ref_g.items())) / gnorm
    return losses, glob, worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--img", type=int, default=224)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--modes", default="fp32,tf32,tf32-trunc,bf16")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    vcfg = ref.ViTConfig(img_size=args.img, in_chans=3, patch_size=args.patch, embed_dim=args.dim, depth=args.depth,
                         num_heads=args.heads, mlp_ratio=4.0)
    mcfg = ref.MoCoConfig(dim=256, mlp_dim=1024, T=0.2, dilemma_probability=0.2, token_drop_rate=0.75, dilemma_lambda=1.0)
    print(f"ViT {args.img}/{args.patch} D{args.dim} depth {args.depth}, batch {args.batch}, drop 0.75, p 0.2; "
          "reference float64; every matmul (fwd + bwd) with rounded operands")
    for seed in range(args.seeds):
        torch.manual_seed(seed)
        model = ref.MoCoV3Dilemma(vcfg, mcfg).double()
        # timm-like init scale (dilemma_ref keeps PyTorch defaults; zeros for pos/cls): small random pos/cls
        with torch.no_grad():
            for enc in (model.base_encoder, model.momentum_encoder):
                enc.pos_embed.copy_(model.base_encoder.pos_embed.normal_(0, 0.02))
                enc.cls_token.copy_(model.base_encoder.cls_token.normal_(0, 0.02))
        model.train()
        gen = torch.Generator().manual_seed(100 + seed)
        x1 = torch.randn(args.batch, 3, args.img, args.img, generator=gen, dtype=torch.float64)
        x2 = torch.randn(args.batch, 3, args.img, args.img, generator=gen, dtype=torch.float64)
        v1 = model.sample_views(args.batch, gen)
        v2 = model.sample_views(args.batch, gen)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        MODE["p"] = "fp64"
        ref_l, ref_g = step_grads(model, x1, x2, v1, v2, mcfg)
        model32 = model.float()
        for p in args.modes.split(","):
            model32.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
            MODE["p"] = p
            l, g = step_grads(model32, x1.float(), x2.float(), v1, v2, mcfg)
            losses, glob, worst = compare(ref_l, ref_g, l, g)
            print(f"seed {seed} {p}: losses rel {', '.join(f'{k} {v:.1e}' for k, v in losses.items())}; gradients global {glob:.1e}, "
                  f"worst {', '.join(f'{n} {e:.1e}' for n, e in worst[:3])}")
        model = model32 = None


if __name__ == "__main__":
    main()
