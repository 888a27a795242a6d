/* global console, process */
// DILEMMA CUDA device check (bundled by device-check.sh into .device/check.mjs; plain Node, no
// node_modules). For each shape: every CUDA kernel (embed forward, backward, atomic
// backward) on random inputs with NaN-poisoned outputs vs the CPU reference, cudaEvent timings
// (median of reps), GB/s by the byte model of shared/bench/pytorch_bench.py, and the fraction of
// this device's cudaMemcpy D2D bandwidth measured in the same run.
//   node check.mjs [--addon PATH] [--reps N]
// Table columns: ok (matches the CPU reference), bad (elements outside tolerance), maxAbsErr,
// median us, GB/s, % of copy bandwidth, speed-up over the PyTorch H200 anchors.
// Exit: 0 all kernels correct, 1 a kernel disagrees with the CPU reference, 2 no device / no CUDA addon.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const here = dirname(fileURLToPath(import.meta.url));
const addonPath = resolve(opt("--addon", join(here, "dilemma_native.node")));
const reps = Number(opt("--reps", "50"));
const outDir = process.env.OUT || null;

const SHAPES = [
  { B: 64, L: 64, K: 16, D: 192 },
  { B: 256, L: 196, K: 49, D: 384 },   // ViT-S/16, 224px, tokenDrop 0.75: the PyTorch anchors' shape
  { B: 256, L: 196, K: 49, D: 768 },   // ViT-B width
  { B: 64, L: 196, K: 196, D: 384 },   // dense K = L (mirror corruption)
  { B: 8, L: 17, K: 17, D: 30 },       // dense odd L, D % 4 != 0: scalar paths
];
// PyTorch 2.11 on an H200, fp32, B=256 L=196 K=49 D=384 (the project's reference numbers): forward gather+add and
// autograd forward+backward; copy bandwidth there ~4.2 TB/s.
const ANCHOR = { B: 256, L: 196, K: 49, D: 384, fwdUs: 69.6, fwdBwdUs: 237, copyTBps: 4.2 };
const TARGET = { fwdCopyFrac: 0.6, fwdBwdSpeedup: 2 };

const lines = [];
const log = (s = "") => {
  console.log(s);
  lines.push(s);
};
function finish(code, result) {
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "device-check.log"), lines.join("\n") + "\n");
    writeFileSync(join(outDir, "device-check.json"), JSON.stringify(result, null, 2) + "\n");
    console.log(`logs: ${join(outDir, "device-check.log")}, ${join(outDir, "device-check.json")}`);
  }
  process.exit(code);
}

let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (e) {
  log(`device-check: cannot load the addon ${addonPath}: ${e.message}`);
  finish(2, { error: "addon load failed", message: e.message });
}
const info = addon.info();
log(`device-check: addon ${addonPath}`);
log(`  version ${info.version}, CUDA compiled=${info.cuda.compiled} archs=${info.cuda.archs} runtime=${info.cuda.runtimeVersion} devices=${info.cuda.devices}, CPU threads=${info.threads}`);
if (typeof addon.cudaDilemmaCheck !== "function") {
  log("device-check: this addon was built without CUDA (no cudaDilemmaCheck); rebuild with DILEMMA_CUDA=on npm run build:addon -w @dilemma/native");
  finish(2, { error: "addon built without CUDA" });
}

const results = [];
let device = null;
let failures = 0;
for (const [si, s] of SHAPES.entries()) {
  let r;
  try {
    r = addon.cudaDilemmaCheck({ ...s, p: 0.2, seed: 1234 + si, step: si, reps });
  } catch (e) {
    log(`device-check: ${e.message}`);
    finish(2, { error: e.message.startsWith("no CUDA device") ? "no CUDA device" : "cuda error", message: e.message, results });
  }
  if (!device) {
    device = { name: r.device, cc: r.cc };
    log(`  device ${r.device} (sm_${r.cc.replace(".", "")}), reps ${reps}`);
  }
  if (!r.boundsErrorDetected) {
    failures++;
    log(`  FAIL ${JSON.stringify(s)}: an out-of-range realPos was not flagged by embed_fwd`);
  }
  for (const row of r.rows) {
    const ok = row.mismatches === 0 && !Number.isNaN(row.maxAbsErr);
    if (!ok) failures++;
    const gbps = row.bytes > 0 ? row.bytes / row.us / 1e3 : null;
    results.push({ ...s, ...row, ok, GBps: gbps, copyGBps: r.copyGBps, copyFrac: gbps === null ? null : gbps / r.copyGBps });
  }
}

const isAnchor = (r) => r.B === ANCHOR.B && r.L === ANCHOR.L && r.K === ANCHOR.K && r.D === ANCHOR.D;
const pad = (v, n) => String(v).padStart(n);
const fmt = (v, d) => (v === null || v === undefined ? "-" : v.toFixed(d));
log("");
log(`copy bandwidth (cudaMemcpy D2D, 256 MiB, read+write): ${fmt(results[0]?.copyGBps, 0)} GB/s (H200 reference ~${ANCHOR.copyTBps * 1000})`);
log("");
log(`${"kernel".padEnd(17)} ${"shape B,L,K,D".padEnd(16)} ${pad("ok", 4)} ${pad("bad", 6)} ${pad("maxAbsErr", 10)} ${pad("us", 9)} ${pad("GB/s", 8)} ${pad("%copy", 6)}  vs PyTorch (H200)`);
for (const r of results) {
  let vs = "";
  if (isAnchor(r) && r.kernel === "embed_fwd") vs = `${ANCHOR.fwdUs} us -> ${(ANCHOR.fwdUs / r.us).toFixed(2)}x`;
  if (isAnchor(r) && r.kernel === "embed_fwd_bwd") vs = `${ANCHOR.fwdBwdUs} us -> ${(ANCHOR.fwdBwdUs / r.us).toFixed(2)}x`;
  log(`${r.kernel.padEnd(17)} ${`${r.B},${r.L},${r.K},${r.D}`.padEnd(16)} ${pad(r.ok ? "yes" : "NO", 4)} ${pad(r.mismatches, 6)} ${pad(r.maxAbsErr.toExponential(1), 10)} ${pad(fmt(r.us, 1), 9)} ${pad(fmt(r.GBps, 0), 8)} ${pad(r.copyFrac === null ? "-" : (100 * r.copyFrac).toFixed(0), 6)}  ${vs}`);
}
const fwd = results.find((r) => isAnchor(r) && r.kernel === "embed_fwd");
const fb = results.find((r) => isAnchor(r) && r.kernel === "embed_fwd_bwd");
const targets = {
  fwdCopyFrac: fwd ? fwd.copyFrac : null,
  fwdMet: fwd ? fwd.copyFrac >= TARGET.fwdCopyFrac : false,
  fwdBwdSpeedup: fb ? ANCHOR.fwdBwdUs / fb.us : null,
  fwdBwdMet: fb ? ANCHOR.fwdBwdUs / fb.us >= TARGET.fwdBwdSpeedup : false,
};
log("");
log(`target forward >= ${TARGET.fwdCopyFrac * 100}% of copy bandwidth at B=256 L=196 K=49 D=384: ${fmt(100 * targets.fwdCopyFrac, 0)}% -> ${targets.fwdMet ? "MET" : "NOT MET"}`);
log(`target fwd+bwd >= ${TARGET.fwdBwdSpeedup}x PyTorch (${ANCHOR.fwdBwdUs} us on H200): ${fmt(targets.fwdBwdSpeedup, 2)}x -> ${targets.fwdBwdMet ? "MET" : "NOT MET"}${device && !/H200/.test(device.name) ? " (anchor is H200; this is " + device.name + ")" : ""}`);
log(failures === 0 ? "RESULT: all CUDA kernels match the CPU reference" : `RESULT: ${failures} FAILURE(S): see rows with ok = NO`);
finish(failures === 0 ? 0 : 1, { date: new Date().toISOString(), device, info, reps, results, targets, failures });
