"""PyTorch eager reference for the `cuda` engine's throughput (run by cuda-check.mjs in the same
device call; usable alone). The step is the one of shared/bench/pytorch_bench.py's bench_train
(momentum update -> momentum encoder on both dense views without grad -> base encoder on both
sparse corrupted views + predictor + losses -> backward -> AdamW), on a GPU, with the forward
passes under torch.autocast(bfloat16) and the DILEMMA positions drawn on the device.
images/s = batch / median step time, each step ending with the loss read (`loss.item()`), as
ours ends with its one host read. Prints one JSON object as the last line of stdout.

  python3 torch_cuda_bench.py --preset vits16 --preset vits16-dense-baseline --steps 10
  python3 torch_cuda_bench.py --device cpu --preset micro32 --batch 4 --steps 2 --warmup 1   # dry run

dilemma_ref.py (shared/bench) is imported from --ref-dir, else beside this file, else from
../../../../shared/bench (the checkout's neighbour).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time


def vit(img, patch, dim, depth, heads):
    return dict(img_size=img, in_chans=3, patch_size=patch, embed_dim=dim, depth=depth, num_heads=heads, mlp_ratio=4.0)


VITS16 = vit(224, 16, 384, 12, 6)
HEADS = dict(dim=256, mlp_dim=1024, T=0.2, dilemma_lambda=1.0)
# Same names and sizes as @dilemma/native's BENCH_PRESETS (src/bench.ts).
PRESETS = {
    "vits16": dict(vit=VITS16, drop=0.75, p=0.2, batch=256),
    "vits16-dense-baseline": dict(vit=VITS16, drop=0.0, p=0.0, batch=256),
    "tiny32": dict(vit=vit(32, 4, 192, 6, 3), drop=0.75, p=0.2, batch=64),
    "tiny32-dense-baseline": dict(vit=vit(32, 4, 192, 6, 3), drop=0.0, p=0.0, batch=64),
    "micro32": dict(vit=vit(32, 4, 96, 4, 3), drop=0.75, p=0.2, batch=64),
}
OPTIM = dict(lr=1.5e-4, weight_decay=0.1)
MOMENTUM = 0.99


def import_ref(ref_dir):
    here = os.path.dirname(os.path.abspath(__file__))
    for d in [ref_dir, here, os.path.join(here, "..", "..", "..", "..", "shared", "bench")]:
        if d and os.path.exists(os.path.join(d, "dilemma_ref.py")):
            sys.path.insert(0, os.path.abspath(d))
            import dilemma_ref  # noqa: E402
            return dilemma_ref
    raise SystemExit("torch_cuda_bench: dilemma_ref.py not found (give --ref-dir)")


def sample_views(ref, model, batch, gen, device):
    """model.sample_views with the draws on `device` (dilemma_ref draws on the CPU)."""
    L, c = model.vit_cfg.num_patches, model.cfg
    K = ref.num_kept_tokens(L, c.token_drop_rate)
    if c.dilemma_probability > 0:
        import torch
        noise = torch.rand(batch, L, device=device, generator=gen)
        label_rand = torch.rand(batch, K, device=device, generator=gen)
        return ref.dilemma_positions(noise, label_rand, c.dilemma_probability)
    if c.token_drop_rate > 0:
        import torch
        return (torch.argsort(torch.rand(batch, L, device=device, generator=gen), dim=1)[:, :K], None, None)
    return None


def bench(ref, name, args):
    import torch
    c = PRESETS[name]
    device = torch.device(args.device)
    vcfg = ref.ViTConfig(**c["vit"])
    mcfg = ref.MoCoConfig(**HEADS, token_drop_rate=c["drop"], dilemma_probability=c["p"])
    B = args.batch or c["batch"]
    torch.manual_seed(0)
    model = ref.MoCoV3Dilemma(vcfg, mcfg).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, **OPTIM)
    gen = torch.Generator(device=device).manual_seed(0)
    x1 = torch.randn(B, 3, vcfg.img_size, vcfg.img_size, device=device)
    x2 = torch.randn(B, 3, vcfg.img_size, vcfg.img_size, device=device)
    amp = args.amp != "none"
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.amp)

    def autocast():
        return torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp)

    def step():
        model.momentum_update(MOMENTUM)
        with torch.no_grad(), autocast():
            k1, k2 = model.key(x1), model.key(x2)
        v1, v2 = sample_views(ref, model, B, gen, device), sample_views(ref, model, B, gen, device)
        with autocast():
            q1, d1, _ = model.query(x1, *(v1 or (None, None, None)))
            q2, d2, _ = model.query(x2, *(v2 or (None, None, None)))
            loss = model.contrastive_loss(q1, k2) + model.contrastive_loss(q2, k1)
            if d1 is not None:
                loss = loss + mcfg.dilemma_lambda * (d1 + d2) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the device, as our step's one host read does

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, losses = [], []
    t_start = time.perf_counter()
    for _ in range(args.warmup):
        step()
    steps = args.steps
    for i in range(steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)
        # bounded: stop early (at >= 3 timed steps) when the preset's budget is spent
        if i >= 2 and time.perf_counter() - t_start > args.budget_s:
            break
    med = statistics.median(times)
    out = {
        "preset": name, "batch": B, "device": args.device, "amp": args.amp,
        "num_kept": ref.num_kept_tokens(vcfg.num_patches, mcfg.token_drop_rate),
        "warmup": args.warmup, "steps_timed": len(times),
        "images_per_s": B / med, "step_s_median": med, "step_s_min": min(times), "step_s_max": max(times),
        "step_s": times, "loss_first_last": [losses[0], losses[-1]],
        "seconds_total": time.perf_counter() - t_start,
    }
    if device.type == "cuda":
        out["max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
    del model, opt, x1, x2
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", action="append", choices=list(PRESETS), help="repeatable; default vits16 and vits16-dense-baseline")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--amp", default="bf16", choices=["bf16", "fp16", "none"])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=0, help="override the preset's batch")
    ap.add_argument("--budget-s", type=float, default=60.0, help="per preset: stop timing after this many seconds (>= 3 steps)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (device cpu); 0 = torch's default")
    ap.add_argument("--ref-dir", default=None)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args()
    import torch
    ref = import_ref(args.ref_dir)
    if args.threads:
        torch.set_num_threads(args.threads)
    env = dict(torch=torch.__version__, python=platform.python_version(), device=args.device)
    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            print(json.dumps({"error": "torch.cuda.is_available() is false", "env": env}))
            sys.exit(2)
        p = torch.cuda.get_device_properties(torch.device(args.device))
        env.update(gpu=p.name, cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   capability=f"{p.major}.{p.minor}", memory_bytes=p.total_memory)
    result = {"benchmark": "MoCo v3 + DILEMMA training step, PyTorch eager, autocast " + args.amp,
              "env": env, "optimizer": dict(OPTIM, name="AdamW (torch default implementation)"), "train": {}}
    for name in args.preset or ["vits16", "vits16-dense-baseline"]:
        r = bench(ref, name, args)
        result["train"][name] = r
        print(f"[torch {name}] {r['images_per_s']:.1f} img/s (median step {r['step_s_median'] * 1e3:.1f} ms, "
              f"{r['steps_timed']} steps, batch {r['batch']})", file=sys.stderr, flush=True)
    text = json.dumps(result)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
