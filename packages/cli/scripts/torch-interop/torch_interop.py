#!/usr/bin/env python3
"""Loads a `dilemma-cli export` into PyTorch and checks that it reproduces our features.

    npx dilemma-cli export runs/<name> ./model
    /usr/bin/python3 packages/cli/scripts/torch-interop/torch_interop.py ./model

1. features.mjs (next to this file) computes, with @dilemma/core in float32, the dense tokens,
   the tokens of one DILEMMA draw (kept + corrupted positions) and the detection head's logits
   of seeded images, from the export's model.safetensors.
2. Here the same model.safetensors goes into the reference ViT (dilemma_ref.py, timm layout)
   with `load_state_dict(strict=True)` (every name and shape must match), and the detection head
   into nn.Linear(D, 1); the same inputs run in float32 and float64.
3. Prints the largest differences and fails (exit 1) unless ours match PyTorch float32 within
   float32 tolerance (|a - b| <= atol + rtol * |b|, atol = rtol = 1e-4).

The reference model is found at $DILEMMA_REF, else ../shared/bench/dilemma_ref.py beside the
repository. No safetensors package is needed: the format is read here directly.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
DTYPES = {"F32": torch.float32, "I32": torch.int32, "F64": torch.float64, "I64": torch.int64}
ATOL = RTOL = 1e-4


def read_safetensors(path):
    """{name: tensor} of a safetensors file (the dtypes we write; copies, so they own memory)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, e in header.items():
        if e["dtype"] not in DTYPES:
            raise SystemExit(f"{path}: {name} has dtype {e['dtype']}, not one of {sorted(DTYPES)}")
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def load_reference():
    ref = os.environ.get("DILEMMA_REF") or str(REPO.parent / "shared" / "bench" / "dilemma_ref.py")
    if not Path(ref).is_file():
        raise SystemExit(f"the reference model {ref} is missing; set DILEMMA_REF=/path/to/dilemma_ref.py")
    sys.path.insert(0, str(Path(ref).parent))
    import dilemma_ref  # noqa: E402 (found through the path above)
    return dilemma_ref


def compare(name, ours, theirs, truth):
    """Largest |ours - torch32| and both float32 results' largest error against float64."""
    diff = (ours.double() - theirs.double()).abs()
    ok = bool((diff <= ATOL + RTOL * theirs.double().abs()).all())
    err_ours = (ours.double() - truth).abs().max().item()
    err_torch = (theirs.double() - truth).abs().max().item()
    print(f"  {name:15s} {str(list(ours.shape)):16s} max|ours - torch32| = {diff.max().item():.3e}   "
          f"vs float64: ours {err_ours:.3e}, torch32 {err_torch:.3e}   (max |value| {truth.abs().max().item():.2f})"
          f"{'' if ok else '   OUT OF TOLERANCE'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export_dir", help="a directory written by `dilemma-cli export`")
    args = ap.parse_args()
    d = Path(args.export_dir).resolve()
    for f in ("config.json", "model.safetensors"):
        if not (d / f).is_file():
            raise SystemExit(f"{d / f} is missing: pass a directory written by `dilemma-cli export <run> <dir>`")
    config = json.loads((d / "config.json").read_text())
    v = config["vit"]
    ref = load_reference()

    with tempfile.TemporaryDirectory() as tmp:
        feats_file = Path(tmp) / "features.safetensors"
        subprocess.run(["node", str(HERE / "features.mjs"), str(d), str(feats_file)], check=True, cwd=HERE)
        feats = read_safetensors(feats_file)

    weights = read_safetensors(d / "model.safetensors")
    head_w = {k.split(".", 1)[1]: weights.pop(k) for k in list(weights) if k.startswith("dilemma_head.")}
    cfg = ref.ViTConfig(img_size=v["imgSize"], in_chans=v["inChans"], patch_size=v["patchSize"], embed_dim=v["embedDim"],
                        depth=v["depth"], num_heads=v["numHeads"], mlp_ratio=v["mlpRatio"])
    print(f"{d / 'model.safetensors'}: {len(weights)} encoder tensors, ViT {json.dumps(v)}")
    ok = True
    outs = {}
    for dtype in (torch.float32, torch.float64):
        vit = ref.VisionTransformer(cfg).to(dtype)
        vit.load_state_dict({k: t.to(dtype) for k, t in weights.items()}, strict=True)
        vit.eval()
        img = feats["images"].to(dtype)
        with torch.no_grad():
            o = {"dense_tokens": vit.forward_features(img)[0]}
            if "real_pos" in feats:
                head = torch.nn.Linear(cfg.embed_dim, 1).to(dtype)
                head.load_state_dict({k: t.to(dtype) for k, t in head_w.items()}, strict=True)
                x = vit.forward_features(img, feats["real_pos"].long(), feats["input_pos"].long())[0]
                o["sparse_tokens"] = x
                o["dilemma_logits"] = head(x[:, 1:]).squeeze(-1)
        outs[dtype] = o
    print(f"PyTorch {torch.__version__}; tolerance |ours - torch32| <= {ATOL:g} + {RTOL:g} * |torch32|")
    for name in outs[torch.float32]:
        ok &= compare(name, feats[name], outs[torch.float32][name], outs[torch.float64][name])
    print("torch_interop: PASS" if ok else "torch_interop: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
