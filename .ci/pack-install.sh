#!/usr/bin/env bash
# CI: what the packages promise works from their npm tarballs, in an empty project outside this
# repository (issue 15). Packs @dilemma/core, @dilemma/native and dilemma-cli, installs the three
# tarballs (npm fetches the rest from the registry; @dilemma/native builds its addon from source
# with cmake-js), then checks: the cli runs, a short `train` uses the native engine, `view` serves
# the viewer shipped inside dilemma-cli, and @dilemma/core loads with import and require and its
# types resolve under TypeScript nodenext (ESM and CJS) and bundler.
# Run after `npm ci` (which builds the packages). About 2-3 minutes, mostly the addon's compile.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/dilemma-pack.XXXXXX)"
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill -INT "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "pack-install: FAIL: $*" >&2; exit 1; }

cd "$repo"
npm pack --silent -w @dilemma/core -w @dilemma/native -w dilemma-cli --pack-destination "$work" >/dev/null
version="$(node -p 'require("./packages/cli/package.json").version')"

mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
# A project approves the addon's build (its install script) in package.json's allowScripts, as
# `npm install-scripts approve @dilemma/native` writes it.
# (for a tarball, npm matches the approval by its file: spec).
native_tgz="$(ls "$work"/dilemma-native-*.tgz)"
node -e 'const fs=require("fs"),p=JSON.parse(fs.readFileSync("package.json"));p.allowScripts={["file:"+process.argv[1]]:true};fs.writeFileSync("package.json",JSON.stringify(p,null,2))' "$native_tgz"
# The CUDA kernels are compiled and tested by the main CI steps; here the CPU-only addon keeps
# the step short.
DILEMMA_CUDA=off npm install --no-audit --no-fund \
  "$work"/dilemma-core-*.tgz "$native_tgz" "$work"/dilemma-cli-*.tgz
[[ -f node_modules/@dilemma/native/build/Release/dilemma_native.node ]] || fail "the addon was not built at install"
[[ ! -e node_modules/@dilemma/web-viewer ]] || fail "the private @dilemma/web-viewer got installed"

got="$(npx --no-install dilemma-cli --version)"
[[ "$got" == "$version" ]] || fail "dilemma-cli --version printed '$got', expected $version"
echo "pack-install: dilemma-cli --version = $got"

npx --no-install dilemma-cli train --steps 2 --batch 8 --knn-bank 32 --knn-queries 16 --out runs/smoke 2>&1 | tee train.log
grep -q '^engine: native ' train.log || fail "train did not run on the native engine"
grep -q 'Hi, looks like you are running TensorFlow.js' train.log && fail "the tfjs banner was printed"
[[ -f runs/smoke/status.json ]] || fail "train wrote no run directory"

npx --no-install dilemma-cli export runs/smoke exported
[[ -f exported/model.safetensors && -f exported/model.json ]] || fail "export wrote no model.safetensors / model.json"
# PyTorch loads the export and reproduces our features (docs/export.md), where torch is installed
# (Debian's python3-torch) and the reference model sits beside the repository.
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [[ -f "$repo/../shared/bench/dilemma_ref.py" ]]; then
  /usr/bin/python3 "$repo/packages/cli/scripts/torch-interop/torch_interop.py" exported || fail "PyTorch did not reproduce the exported model's features"
else
  echo "pack-install: torch interop check skipped (no /usr/bin/python3 with torch, or no ../shared/bench/dilemma_ref.py)"
fi

./node_modules/.bin/dilemma-cli view runs/smoke --port 5199 >view.log 2>&1 &
server=$!
for _ in $(seq 100); do grep -q '^serving ' view.log && break; sleep 0.2; done
url="$(sed -n 's/^serving .* at \(http[^ ]*\).*/\1/p' view.log)"
[[ -n "$url" ]] || { cat view.log; fail "view did not start"; }
node -e '
  const url = process.argv[1];
  const check = async (p, want) => {
    const r = await fetch(url.replace(/\/$/, "") + p);
    const body = await r.text();
    if (r.status !== 200 || !body.includes(want)) throw new Error(`GET ${p}: ${r.status}, no ${JSON.stringify(want)} in the body`);
  };
  await check("/", "<script");
  await check("/api/runs", "smoke");
  console.log(`pack-install: view serves the viewer and the run at ${url}`);
' "$url"
kill -INT "$server"; wait "$server" || true; server=""

cat >esm.mjs <<'JS'
import { ViT, VIT_PRESETS, VERSION } from "@dilemma/core";
if (typeof ViT !== "function" || VIT_PRESETS.micro32.embedDim !== 96) throw new Error("import: unexpected exports");
console.log(`pack-install: import @dilemma/core ${VERSION}`);
JS
node esm.mjs
node -e '
  const core = require("@dilemma/core");
  if (typeof core.ViT !== "function" || typeof core.encodeSafetensors !== "function") throw new Error("require: unexpected exports");
  console.log(`pack-install: require @dilemma/core ${core.VERSION}`);
'

# Types: the repository's tsc, run on this project's files.
tsc=("node" "$repo/node_modules/typescript/bin/tsc")
cat >check.mts <<'TS'
import { ViT, VIT_PRESETS, type ViTConfig } from "@dilemma/core";
const cfg: ViTConfig = VIT_PRESETS.micro32;
export const width: number = new ViT(cfg).embedDim;
TS
cat >check.cts <<'TS'
import core = require("@dilemma/core");
const cfg: core.ViTConfig = core.VIT_PRESETS.micro32;
export const width: number = new core.ViT(cfg).embedDim;
TS
cp check.mts check-bundler.ts
tsconfig() { # module moduleResolution files...
  local module="$1" resolution="$2"; shift 2
  node -e 'const [m, r, ...files] = process.argv.slice(1); console.log(JSON.stringify({ compilerOptions: { module: m, moduleResolution: r,
    target: "ES2022", lib: ["ES2022", "DOM"], types: [], strict: true, noEmit: true, skipLibCheck: true }, files }))' "$module" "$resolution" "$@"
}
tsconfig nodenext nodenext check.mts check.cts >tsconfig.nodenext.json
tsconfig esnext bundler check-bundler.ts >tsconfig.bundler.json
"${tsc[@]}" -p tsconfig.nodenext.json || fail "types under nodenext"
"${tsc[@]}" -p tsconfig.bundler.json || fail "types under bundler"
echo "pack-install: @dilemma/core types resolve under nodenext (ESM + CJS) and bundler"
echo "pack-install: all checks passed"
