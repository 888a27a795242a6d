#!/usr/bin/env python3
"""Plots the quality benchmark (scripts/quality.mjs): held-out detection AUROC against wall time
and against steps, and kNN accuracy against steps, one line per seed. Usage: quality-plot.py results.json out.png [title]"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: quality-plot.py results.json out.png [title]")
    with open(sys.argv[1]) as f:
        data = json.load(f)
    results = data["results"]
    if not results:
        sys.exit(f"{sys.argv[1]}: no results to plot")
    # Time is the budget; steps make runs on machines of different load comparable.
    fig, (ax_det, ax_step, ax_knn) = plt.subplots(1, 3, figsize=(15, 4))
    for r in results:
        pts = [p for p in r["curve"] if p.get("detAuroc") is not None]
        line, = ax_det.plot([p["time"] for p in pts], [p["detAuroc"] for p in pts], marker="o", ms=3, label=f"seed {r['seed']}")
        ax_step.plot([p["step"] for p in pts], [p["detAuroc"] for p in pts], marker="o", ms=3, color=line.get_color(), label=f"seed {r['seed']}")
        knn = [p for p in r["curve"] if p.get("knnAcc") is not None]
        ax_knn.plot([p["step"] for p in knn], [p["knnAcc"] for p in knn], marker="o", ms=3, color=line.get_color(), label=f"seed {r['seed']}")
    wall = max(r["wallSeconds"] for r in results)
    ax_det.axhline(0.5, color="grey", lw=0.8, ls=":", label="chance (0.5)")
    ax_det.axhline(0.75, color="tab:red", lw=0.8, ls="--", label="floor (0.75)")
    ax_det.axvline(180, color="black", lw=0.8, ls="--", label="3 min")
    ax_det.set(xlabel="wall time of a plain run (s)", ylabel="held-out detection AUROC", ylim=(0.4, 1.0), xlim=(0, max(190, wall * 1.05)))
    ax_step.axhline(0.5, color="grey", lw=0.8, ls=":", label="chance (0.5)")
    ax_step.axhline(0.75, color="tab:red", lw=0.8, ls="--", label="floor (0.75)")
    steps = max(r["steps"] for r in results)
    ax_step.set(xlabel="training step", ylabel="held-out detection AUROC", ylim=(0.4, 1.0), xlim=(0, steps * 1.02))
    chance = results[0].get("chance")
    if chance:
        ax_knn.axhline(chance, color="grey", lw=0.8, ls=":", label=f"chance ({chance:.3f})")
        ax_knn.axhline(2 * chance, color="tab:red", lw=0.8, ls="--", label="2x chance")
    ax_knn.set(xlabel="training step", ylabel="kNN accuracy (k = 20)", ylim=(0, 1), xlim=(0, steps * 1.02))
    for ax in (ax_det, ax_step, ax_knn):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    title = sys.argv[3] if len(sys.argv) > 3 else f"dilemma-cli train (default recipe, {results[0]['data']}, {results[0]['steps']} steps)"
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
