#!/usr/bin/env bash
# Learning-curve parity (docs/learning-curve-parity.md): MoCo v3 + DILEMMA and detection only,
# 300 steps each, @dilemma/core (native engine) and PyTorch on the same initial weights, batches
# and DILEMMA draws, plus PyTorch against itself from weights 1 ulp apart (the float32 drift
# baseline); then the comparison, which exits 1 on a divergence, and the plot.
#   packages/cli/scripts/curve/run.sh [WORKDIR]      (default /tmp/dilemma-curve; needs the build)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
W=${1:-/tmp/dilemma-curve}
PY=${PYTHON:-/usr/bin/python3}
S=packages/cli/scripts/curve
node $S/ours.mjs --variant mocov3 --out "$W/mocov3" --steps 300 --batch 16 --lr 5e-4 --warmup 30
$PY $S/torch_trainer.py "$W/mocov3"
$PY $S/torch_trainer.py "$W/mocov3" --perturb-ulp 1 --tag ulp
node $S/ours.mjs --variant det --out "$W/det" --steps 300 --batch 32 --lr 1e-3 --warmup 30
$PY $S/torch_trainer.py "$W/det"
$PY $S/torch_trainer.py "$W/det" --perturb-ulp 1 --tag ulp
$PY $S/compare.py "$W/mocov3" "$W/det" --png docs/learning-curve-parity.png
