#!/usr/bin/env bash
# Device check of the `cuda` engine, one command per machine (packages/native/BENCHMARKS.md,
# "CUDA engine"):
#
#   bash packages/native/scripts/cuda-check.sh                     # HERE: pack .device/
#   bash packages/native/scripts/cuda-check.sh --run               # ON THE GPU MACHINE (carry [".device"])
#   bash packages/native/scripts/cuda-check.sh --device host --quick   # HERE: pack, then dry-run the
#                                                                  # packed bundle on the host device
#
# Pack: the addon (env DILEMMA_ADDON or --addon PATH; default build/Release/dilemma_native.node)
# must be built with DILEMMA_CUDA=on DILEMMA_BLAS=static (sm_90 cubins, no libopenblas.so: the
# GPU machine has none); compiles @dilemma/native's TypeScript, esbuild-bundles
# scripts/check/main.ts (the check: a runner plus one file per op family) with tfjs-core, tfjs-backend-cpu, @dilemma/core and @dilemma/native into
# one file (the GPU machine has no node and no node_modules), and writes
#   .device/node.xz                 node binary
#   .device/cuda-check/{cuda-check.mjs, dilemma_native.node.xz, torch_cuda_bench.py, dilemma_ref.py}
# Run: unpacks node to /tmp/node (where there is no node) and the addon to /tmp/dilemma-cuda-check/, runs the bundle; logs and JSON under $OUT (default
# /tmp/cuda-check-out). Extra arguments go to the check (see scripts/check/main.ts), e.g.
# --only softmax to validate and time one op family alone.
# Exit codes of a run: 0 correct, 1 a kernel, embed-atomic or the step parity failed, 2 no CUDA device.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$(cd "$here/.." && pwd)"
repo="$(cd "$pkg/../.." && pwd)"
dev="$repo/.device"
box="$dev/cuda-check"

pick_python() {  # the first python3 that imports torch (PyTorch 2.11 on the GPU machine)
  for p in "${DILEMMA_PYTHON:-}" python3 /usr/bin/python3; do
    [[ -n "$p" ]] && command -v "$p" >/dev/null 2>&1 && "$p" -c "import torch" >/dev/null 2>&1 && { echo "$p"; return; }
  done
  echo python3
}

run_bundle() {
  local node_bin
  if command -v node >/dev/null 2>&1; then
    node_bin="$(command -v node)"
  else
    node_bin=/tmp/node
    if [[ ! -x "$node_bin" ]]; then
      [[ -f "$dev/node.xz" ]] || { echo "cuda-check: $dev/node.xz is missing: pack first (cuda-check.sh without --run) and carry .device" >&2; exit 2; }
      xz -dc "$dev/node.xz" > "$node_bin.tmp" && chmod +x "$node_bin.tmp" && mv "$node_bin.tmp" "$node_bin"
    fi
  fi
  [[ -f "$box/cuda-check.mjs" && -f "$box/dilemma_native.node.xz" ]] || { echo "cuda-check: $box is incomplete: pack first (cuda-check.sh without --run) and carry .device" >&2; exit 2; }
  # The addon travels xz-compressed (44 MB with CUDA cubins and static OpenBLAS; ~3 MB packed).
  local addon_run=/tmp/dilemma-cuda-check/dilemma_native.node
  mkdir -p "$(dirname "$addon_run")"
  xz -dc "$box/dilemma_native.node.xz" > "$addon_run.tmp" && mv "$addon_run.tmp" "$addon_run"
  export OUT="${OUT:-/tmp/cuda-check-out}"
  mkdir -p "$OUT"
  export DILEMMA_CUDA_STRICT="${DILEMMA_CUDA_STRICT:-1}"
  # cuBLAS is dlopen'ed: make the toolkit's copy findable where it is not on the loader path
  # (PyTorch gets the original LD_LIBRARY_PATH back: it brings its own CUDA libraries).
  if ! ldconfig -p 2>/dev/null | grep -q "libcublas.so.1[23] " && [[ -d /usr/local/cuda/lib64 ]]; then
    export DILEMMA_ORIG_LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" DILEMMA_LDPATH_ADDED=1
    export LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  { command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi not found"; } > "$OUT/nvidia-smi.txt" 2>&1 || true
  echo "cuda-check: $node_bin $box/cuda-check.mjs $* (OUT=$OUT)"
  local rc=0
  "$node_bin" "$box/cuda-check.mjs" --addon "$addon_run" --torch-script "$box/torch_cuda_bench.py" \
    --python "$(pick_python)" "$@" || rc=$?
  echo "cuda-check: exit code $rc"
  return $rc
}

if [[ "${1:-}" == "--run" ]]; then
  shift
  run_bundle "$@"
  exit $?
fi

# ---------------------------------------------------------------- pack (here)
die() { echo "cuda-check: $*" >&2; exit 1; }
host_dry_run=0
addon="${DILEMMA_ADDON:-$pkg/build/Release/dilemma_native.node}"
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --addon) addon="$2"; shift 2 ;;
    --device) [[ "$2" == "host" ]] && host_dry_run=1; pass+=("$1" "$2"); shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
rebuild="DILEMMA_CUDA=on DILEMMA_BLAS=static npm run build:addon -w @dilemma/native"
[[ -f "$addon" ]] || die "$addon is missing. Build it: $rebuild (or DILEMMA_BUILD_DIR=... and pass DILEMMA_ADDON=<dir>/Release/dilemma_native.node)"
info="$(node -e 'const a = require(process.argv[1]); console.log(JSON.stringify({ ...a.info(), gpuFns: Object.keys(a.gpu ?? {}), dilemmaCheck: typeof a.cudaDilemmaCheck === "function" }))' "$addon")" \
  || die "cannot load $addon"
check_cuda_build() {
  # The GPU machine has no OpenBLAS: the carried addon must not need libopenblas.so.
  if ldd "$addon" | grep -q "libopenblas"; then die "$addon links libopenblas.so, which the GPU machine lacks. Rebuild: $rebuild"; fi
  # cudaDilemmaCheck (the DILEMMA CUDA kernels): the embed-atomic section runs it on the device
  node -e 'const i = JSON.parse(process.argv[1]); process.exit(i.cuda.compiled && i.cuda.archs.split(",").includes("90") && i.dilemmaCheck ? 0 : 1)' "$info" \
    || die "addon not built with CUDA for sm_90 and the DILEMMA kernels (info: $info). Rebuild: $rebuild"
  local cuobjdump
  cuobjdump="$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)"
  if [[ -x "$cuobjdump" ]]; then
    "$cuobjdump" --list-elf "$addon" 2>/dev/null | grep -q "sm_90" || die "no sm_90 cubin in $addon (cuobjdump --list-elf)"
    echo "cuda-check: sm_90 cubins: $("$cuobjdump" --list-elf "$addon" 2>/dev/null | grep -c sm_90)"
  else  # no cuobjdump in this toolkit: each cubin's ELF notes its compile options, "-arch sm_90"
    local n
    n="$(grep -a -o -e "-arch sm_90 " "$addon" | wc -l)"
    [[ "$n" -gt 0 ]] || die "no sm_90 cubin found in $addon"
    echo "cuda-check: sm_90 cubins in the addon: $n (no cuobjdump; counted their ELF notes)"
  fi
}
if [[ "$host_dry_run" == 1 ]]; then
  # subshell: check_cuda_build dies (exit 1) on a non-static build, which here is only a note
  (check_cuda_build) 2>/dev/null || echo "cuda-check: note: $addon is not a CUDA sm_90 static build; fine for --device host, NOT for the GPU machine (repack before carrying)" >&2
else
  check_cuda_build
fi
# Every kernel of the contract (src/cuda/addon.ts) must be in the addon.
node -e '
const have = new Set(JSON.parse(process.argv[1]).gpuFns);
const want = ["init","alloc","free","upload","download","copy","synchronize","emptyCache","memory","eventRecord","eventElapsedMs","eventFree",
  "setMatmulPrecision","fill","cast","unary","binary","select","addN","reduce","softmax","transpose","stridedCopy","matMul","geluErf",
  "geluErfGrad","layerNorm","layerNormGrad","dilemmaEmbed","dilemmaEmbedGrad","adamW","ema","attention","attentionGrad","mlp","mlpGrad"];
const missing = want.filter((f) => !have.has(f));
if (missing.length) { console.error("cuda-check: the addon lacks gpu." + missing.join(", gpu.") + " (rebuild from this checkout)"); process.exit(1); }' "$info" \
  || { [[ "$host_dry_run" == 1 ]] || exit 1; }

echo "cuda-check: compiling @dilemma/native (dist/)"
(cd "$repo" && npm run build -w @dilemma/native --silent) || die "npm run build -w @dilemma/native failed"

mkdir -p "$box"
node_src="$(command -v node)"
if [[ ! -f "$dev/node.xz" || "$node_src" -nt "$dev/node.xz" ]]; then
  echo "cuda-check: compressing $node_src -> $dev/node.xz"
  xz -T2 -6 -c "$node_src" > "$dev/node.xz.tmp" && mv "$dev/node.xz.tmp" "$dev/node.xz"
fi
esbuild="$repo/node_modules/.bin/esbuild"
[[ -x "$esbuild" ]] || die "esbuild not found at $esbuild (npm ci)"
# ESM output with CommonJS inside (tfjs-core's node build): give the bundle a real `require`.
# --ignore-annotations: tfjs's "sideEffects" lists do not name the node builds esbuild resolves, so
# without it the bare imports that register backends and order module loading would be dropped.
"$esbuild" "$here/check/main.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning --ignore-annotations \
  --banner:js="import { createRequire as __dcCreateRequire } from 'node:module'; const require = __dcCreateRequire(import.meta.url);" \
  --outfile="$box/cuda-check.mjs"
echo "cuda-check: compressing $addon -> $box/dilemma_native.node.xz"
rm -f "$box/dilemma_native.node"
xz -T2 -6 -c "$addon" > "$box/dilemma_native.node.xz.tmp" && mv "$box/dilemma_native.node.xz.tmp" "$box/dilemma_native.node.xz"
cp "$here/torch_cuda_bench.py" "$box/"
ref="${DILEMMA_REF:-$repo/../shared/bench/dilemma_ref.py}"
[[ -f "$ref" ]] || die "dilemma_ref.py not found at $ref (set DILEMMA_REF)"
cp "$ref" "$box/dilemma_ref.py"
grep -qxF ".device/" "$repo/.gitignore" 2>/dev/null || echo "cuda-check: warning: .device/ is not in $repo/.gitignore" >&2

# What travels: the working tree (tracked + untracked-not-ignored) and .device: < 64 MiB.
tree_bytes="$(cd "$repo" && git ls-files -z -co --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')"
dev_bytes="$(du -sb "$dev" | cut -f1)"
total=$((tree_bytes + dev_bytes))
echo "cuda-check: packed $box:"
ls -l "$box" "$dev/node.xz"
awk -v t="$total" -v d="$dev_bytes" -v w="$tree_bytes" 'BEGIN { printf "cuda-check: carry total %.1f MiB (.device %.1f MiB + working tree %.1f MiB; limit 64 MiB)\n", t / 1048576, d / 1048576, w / 1048576 }'
[[ "$total" -lt $((64 * 1048576)) ]] || die "over the 64 MiB carry limit: remove other files from .device/ (e.g. old packs)"

if [[ "$host_dry_run" == 1 ]]; then
  echo "cuda-check: dry run of the packed bundle on the host device"
  run_bundle "${pass[@]}"
  exit $?
fi
cat <<MSG
Next, on the GPU machine (run tool: carry [".device"], timeout_s 540, repo root as working directory):
  bash packages/native/scripts/cuda-check.sh --run
MSG
