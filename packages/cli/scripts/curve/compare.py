"""Learning-curve parity: compares DIR/ours.jsonl with DIR/torch.jsonl (docs/learning-curve-parity.md).

    /usr/bin/python3 packages/cli/scripts/curve/compare.py DIR [DIR ...] [--png docs/learning-curve-parity.png]

Prints, per run, the largest relative difference of each loss term (|ours - torch| / |torch|), the
first step where it passes 1e-5 / 1e-4 / 1e-3, the held-out AUROC differences, the relative
difference of every weight tensor at the end, and a markdown table; draws the curves into --png.

float32 drift is measured, not assumed: DIR/ulp.jsonl (torch_trainer.py --perturb-ulp 1 --tag ulp)
is PyTorch against itself from initial weights 1 ulp apart. Exits 1 (a divergence, not drift) when
ours differs from PyTorch by more than --early-tol in the first --early steps, or when, over the
run, the median relative difference of a loss term is more than --drift-factor times PyTorch's own
(or, without ulp.jsonl, more than --tol).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_trainer import read_weights  # noqa: E402


def usage_error(msg):
    """Missing or mismatched inputs: exit 2 (exit 1 means a divergence)."""
    print(f"compare.py: {msg}", file=sys.stderr)
    sys.exit(2)

TERMS = ("loss", "ssl", "dilemma")


def load(path):
    if not os.path.exists(path):
        usage_error(f"{path} not found: run ours.mjs and torch_trainer.py on that folder first")
    lines = [json.loads(line) for line in open(path) if line.strip()]
    meta = lines[0]
    train = {ln["step"]: ln for ln in lines if ln["kind"] == "train"}
    evals = {ln["step"]: ln["auroc"] for ln in lines if ln["kind"] == "eval"}
    return meta, train, evals


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


def compare(d):
    meta, ours, oev = load(os.path.join(d, "ours.jsonl"))
    _, tor, tev = load(os.path.join(d, "torch.jsonl"))
    ulp = load(os.path.join(d, "ulp.jsonl")) if os.path.exists(os.path.join(d, "ulp.jsonl")) else None
    steps = sorted(ours)
    if sorted(tor) != steps or sorted(tev) != sorted(oev):
        usage_error(f"{d}: ours.jsonl and torch.jsonl cover different steps; rerun torch_trainer.py")
    r = {"dir": d, "meta": meta, "steps": np.array(steps), "ours": ours, "torch": tor,
         "eval_steps": np.array(sorted(oev)), "ours_auroc": np.array([oev[s] for s in sorted(oev)]),
         "torch_auroc": np.array([tev[s] for s in sorted(oev)])}
    terms = [t for t in TERMS if any(ours[s][t] != 0 for s in steps)]
    r["terms"] = terms
    r["rel"] = {t: rel([ours[s][t] for s in steps], [tor[s][t] for s in steps]) for t in terms}
    r["ulp"] = None
    if ulp is not None:
        if sorted(ulp[1]) != steps:
            usage_error(f"{d}: ulp.jsonl covers different steps; rerun torch_trainer.py --perturb-ulp 1 --tag ulp")
        r["ulp"] = {t: rel([ulp[1][s][t] for s in steps], [tor[s][t] for s in steps]) for t in terms}
        r["ulp_auroc_diff"] = np.abs(np.array([ulp[2][s] for s in sorted(oev)]) - r["torch_auroc"])
    r["auroc_diff"] = np.abs(r["ours_auroc"] - r["torch_auroc"])
    r["weights"] = weight_diffs(d, "ours-final", "torch-final")
    r["ulp_weights"] = weight_diffs(d, "ulp-final", "torch-final")
    return r


def weight_diffs(d, a_name, b_name):
    """[(||a - b|| / ||b||, name)] per tensor, largest first; None when a file is missing."""
    try:
        a, b = read_weights(d, a_name), read_weights(d, b_name)
    except FileNotFoundError:
        return None
    norm = lambda t: np.linalg.norm(t.numpy().astype(np.float64))  # noqa: E731
    return sorted(((float(norm(a[n] - b[n]) / max(norm(b[n]), 1e-30)), n) for n in a), reverse=True)


def report(r):
    m = r["meta"]
    print(f"== {r['dir']}: {m['variant']}, {m['steps']} steps, batch {m['batch']}, lr {m['lr']}, engine {m['engine']}")
    for t in r["terms"]:
        x = r["rel"][t]
        i = int(np.argmax(x))
        firsts = []
        for th in (1e-5, 1e-4, 1e-3):
            above = np.nonzero(x > th)[0]
            firsts.append(f"> {th:g} from step {r['steps'][above[0]]}" if len(above) else f"never > {th:g}")
        print(f"  {t:8s} largest relative difference {x[i]:.2e} (step {r['steps'][i]}); median {np.median(x):.1e}; "
              f"steps 1-10 max {x[:10].max():.1e}; last {x[-1]:.2e}; " + ", ".join(firsts))
        if r["ulp"] is not None:
            u = r["ulp"][t]
            above = np.nonzero(u > 1e-4)[0]
            print(f"  {'':8s} PyTorch vs PyTorch 1 ulp apart: largest {u.max():.2e}, median {np.median(u):.1e}, "
                  f"last {u[-1]:.2e}, " + (f"> 0.0001 from step {r['steps'][above[0]]}" if len(above) else "never > 0.0001"))
    print(f"  held-out AUROC: largest |ours - torch| {r['auroc_diff'].max():.2e} "
          f"(step {r['eval_steps'][int(np.argmax(r['auroc_diff']))]}); final ours {r['ours_auroc'][-1]:.4f} torch {r['torch_auroc'][-1]:.4f}"
          + (f"; PyTorch vs PyTorch 1 ulp apart: largest {r['ulp_auroc_diff'].max():.2e}" if r["ulp"] is not None else ""))
    if r["weights"]:
        top = ", ".join(f"{n} {v:.1e}" for v, n in r["weights"][:3])
        med = np.median([v for v, _ in r["weights"]])
        print(f"  final weights, relative L2 difference per tensor: median {med:.1e}; largest {top}")
    if r["ulp_weights"]:
        print(f"  {'':8s} PyTorch vs PyTorch 1 ulp apart: median {np.median([v for v, _ in r['ulp_weights']]):.1e}")


def table(r, every):
    o, t = r["ours"], r["torch"]
    rows = ["| step | loss ours | loss torch | rel. diff | detection loss ours | torch | held-out AUROC ours | torch |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    auroc = dict(zip(r["eval_steps"].tolist(), zip(r["ours_auroc"], r["torch_auroc"])))
    for s in [1] + [s for s in r["steps"].tolist() if s % every == 0]:
        a = auroc.get(s)
        au = f"{a[0]:.4f} | {a[1]:.4f}" if a else "| "
        rows.append(f"| {s} | {o[s]['loss']:.6f} | {t[s]['loss']:.6f} | {rel(o[s]['loss'], t[s]['loss']):.1e} | "
                    f"{o[s]['dilemma']:.6f} | {t[s]['dilemma']:.6f} | {au} |")
    return "\n".join(rows)


def plot(runs, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(3, len(runs), figsize=(6.5 * len(runs), 10), squeeze=False)
    for j, r in enumerate(runs):
        name = "MoCo v3 + DILEMMA" if r["meta"]["variant"] == "mocov3" else "detection only"
        s = r["steps"]
        for t, c in zip(r["terms"], ("C0", "C1", "C2")):
            ax[0, j].plot(s, [r["ours"][k][t] for k in s], c, lw=1.2, label=f"{t} (ours)")
            ax[0, j].plot(s, [r["torch"][k][t] for k in s], "k--", lw=0.7, label=f"{t} (PyTorch)" if t == r["terms"][0] else None)
            ax[1, j].semilogy(s, np.maximum(r["rel"][t], 1e-9), c, lw=0.8, label=f"{t}: ours vs PyTorch")
            if r["ulp"] is not None:
                ax[1, j].semilogy(s, np.maximum(r["ulp"][t], 1e-9), c, lw=0.6, ls=":",
                                  label=f"{t}: PyTorch vs PyTorch 1 ulp apart")
        ax[0, j].set_title(f"{name}: {r['meta']['steps']} steps, batch {r['meta']['batch']}")
        ax[0, j].set_ylabel("training loss")
        ax[0, j].legend(fontsize=8)
        ax[1, j].set_ylabel("|ours - PyTorch| / |PyTorch| (0 drawn as 1e-9)")
        ax[1, j].legend(fontsize=8)
        ax[2, j].plot(r["eval_steps"], r["ours_auroc"], "C3o-", ms=3, label="ours")
        ax[2, j].plot(r["eval_steps"], r["torch_auroc"], "k.--", lw=0.7, label="PyTorch")
        ax[2, j].set_ylabel("held-out detection AUROC")
        ax[2, j].set_xlabel("step")
        ax[2, j].legend(fontsize=8)
    fig.tight_layout()
    tmp = png + ".tmp.png"
    fig.savefig(tmp, dpi=75)
    os.replace(tmp, png)
    print(f"wrote {png}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--png")
    ap.add_argument("--early", type=int, default=3, help="steps that must match to --early-tol")
    ap.add_argument("--early-tol", type=float, default=1e-4)
    ap.add_argument("--drift-factor", type=float, default=3.0)
    ap.add_argument("--tol", type=float, default=1e-2, help="median relative difference allowed without ulp.jsonl")
    ap.add_argument("--table-every", type=int, default=50)
    a = ap.parse_args()
    runs = [compare(d) for d in a.dirs]
    ok = True
    for r in runs:
        report(r)
        print(table(r, a.table_every))
        for t in r["terms"]:
            x = r["rel"][t]
            early = x[:a.early].max()
            limit = a.drift_factor * np.median(r["ulp"][t]) if r["ulp"] is not None else a.tol
            if early > a.early_tol:
                ok = False
                print(f"  FAIL {t}: {early:.2e} relative difference in the first {a.early} steps (> {a.early_tol:g})")
            if np.median(x) > max(limit, 1e-7):
                ok = False
                print(f"  FAIL {t}: median relative difference {np.median(x):.2e} > {limit:.2e}"
                      + (f" ({a.drift_factor:g} x PyTorch's own 1-ulp drift)" if r["ulp"] is not None else ""))
    if a.png:
        plot(runs, a.png)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
