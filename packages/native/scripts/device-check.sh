#!/usr/bin/env bash
# DILEMMA CUDA device check, one command per machine (see packages/native/BENCHMARKS.md).
#
#   bash packages/native/scripts/device-check.sh          # HERE (repo root or anywhere): pack .device/
#   bash packages/native/scripts/device-check.sh --run    # ON THE GPU MACHINE, with .device carried
#
# Pack (here): checks that build/Release/dilemma_native.node was compiled with CUDA for sm_90,
# writes <repo>/.device/{node.xz, check.mjs (esbuild bundle of scripts/device-check.mjs),
# dilemma_native.node}. Run (device): unpacks node to /tmp/node, runs the check over the shapes
# (validation vs the CPU reference + timings), prints a table, writes logs under $OUT when set.
# Exit codes of --run: 0 correct, 1 a kernel disagrees with the CPU reference, 2 no CUDA device.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$(cd "$here/.." && pwd)"
repo="$(cd "$pkg/../.." && pwd)"
dev="$repo/.device"
addon="$pkg/build/Release/dilemma_native.node"

if [[ "${1:-}" == "--run" ]]; then
  shift
  node_bin=/tmp/node
  if [[ ! -x "$node_bin" ]]; then
    [[ -f "$dev/node.xz" ]] || { echo "device-check: $dev/node.xz is missing: run device-check.sh (without --run) first and carry .device" >&2; exit 2; }
    xz -dc "$dev/node.xz" > "$node_bin.tmp" && chmod +x "$node_bin.tmp" && mv "$node_bin.tmp" "$node_bin"
  fi
  if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    { command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi not found"; } > "$OUT/nvidia-smi.txt" 2>&1 || true
  fi
  exec "$node_bin" "$dev/check.mjs" --addon "$dev/dilemma_native.node" "$@"
fi

die() { echo "device-check: $*" >&2; exit 1; }
[[ -f "$addon" ]] || die "$addon is missing. Build it with CUDA: DILEMMA_CUDA=on DILEMMA_BLAS=static npm run build:addon -w @dilemma/native"
# The GPU machine has no OpenBLAS: the carried addon must not need libopenblas.so.
if ldd "$addon" | grep -q "libopenblas"; then
  die "$addon links libopenblas.so, which the GPU machine lacks. Rebuild: DILEMMA_CUDA=on DILEMMA_BLAS=static npm run build:addon -w @dilemma/native"
fi
info="$(node -e 'const i = require(process.argv[1]).info(); console.log(JSON.stringify(i))' "$addon")" \
  || die "cannot load $addon"
node -e 'const i = JSON.parse(process.argv[1]); process.exit(i.cuda.compiled && i.cuda.archs.split(",").includes("90") && i.dilemmaKernels ? 0 : 1)' "$info" \
  || die "addon not built with CUDA sm_90 + DILEMMA kernels (info: $info). Rebuild: DILEMMA_CUDA=on DILEMMA_BLAS=static npm run build:addon -w @dilemma/native"
cuobjdump="$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)"
if [[ -x "$cuobjdump" ]]; then
  "$cuobjdump" --list-elf "$addon" 2>/dev/null | grep -q "sm_90" || die "no sm_90 cubin in $addon (cuobjdump --list-elf)"
  echo "device-check: sm_90 cubins: $("$cuobjdump" --list-elf "$addon" 2>/dev/null | grep -c sm_90)"
else  # no cuobjdump in this toolkit: each cubin's ELF notes its compile options, "-arch sm_90"
  n="$(grep -a -o -e "-arch sm_90 " "$addon" | wc -l)"
  [[ "$n" -gt 0 ]] || die "no sm_90 cubin found in $addon"
  echo "device-check: sm_90 cubins in the addon: $n (no cuobjdump; counted their ELF notes)"
fi
mkdir -p "$dev"
node_src="$(command -v node)"
if [[ ! -f "$dev/node.xz" || "$node_src" -nt "$dev/node.xz" ]]; then
  echo "device-check: compressing $node_src -> $dev/node.xz"
  xz -T2 -6 -c "$node_src" > "$dev/node.xz.tmp" && mv "$dev/node.xz.tmp" "$dev/node.xz"
fi
esbuild="$repo/node_modules/.bin/esbuild"
[[ -x "$esbuild" ]] || die "esbuild not found at $esbuild (npm ci)"
"$esbuild" "$here/device-check.mjs" --bundle --platform=node --format=esm --target=node20 --log-level=warning --outfile="$dev/check.mjs"
cp "$addon" "$dev/dilemma_native.node"
grep -qxF ".device/" "$repo/.gitignore" 2>/dev/null || echo "device-check: warning: .device/ is not in $repo/.gitignore" >&2
echo "device-check: packed $(du -sh "$dev" | cut -f1) in $dev:"
ls -l "$dev"
cat <<MSG
Next, on the GPU machine (carry [".device"], repo root as working directory):
  bash packages/native/scripts/device-check.sh --run
MSG
