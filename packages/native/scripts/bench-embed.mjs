/* global console, process, performance */
// Micro-benchmark of the DILEMMA embedding op on the CPU (not a test): native C++ kernels vs the
// tfjs cpu path, median us and GB/s by the byte model of shared/bench/pytorch_bench.py
// (forward 3*B*K*D floats; backward B*L*D + 2*B*K*D + L*D floats).
//   node packages/native/scripts/bench-embed.mjs [--reps N] [--with-composite-backward]
// (DILEMMA_THREADS sets the addon's pool size.)
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { dilemmaEmbedComposite, dilemmaEmbedGradComposite, sampleDilemma } from "@dilemma/core";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const addonPath = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "Release", "dilemma_native.node");
if (!existsSync(addonPath)) {
  console.error(`bench-embed: ${addonPath} is missing; build it with \`npm run build:addon -w @dilemma/native\``);
  process.exit(1);
}
const addon = createRequire(import.meta.url)(addonPath);
if (typeof addon.dilemmaEmbedForward !== "function") {
  console.error("bench-embed: the addon has no DILEMMA kernels; rebuild with `npm run build:addon -w @dilemma/native`");
  process.exit(1);
}
const i = process.argv.indexOf("--reps");
const REPS = i > 0 ? Number(process.argv[i + 1]) : 30;
await tf.setBackend("cpu");

/**
 * Median wall time of fn over up to `reps` runs after a warm-up, cut short after `budgetMs`
 * (but at least `minRuns`): the tfjs composites take seconds per call at the large shape.
 */
function median(fn, reps, budgetMs = 10_000, minRuns = 3) {
  fn(); // warm-up (JIT, page faults of reused buffers)
  const t = [];
  const start = performance.now();
  for (let r = 0; r < reps && (r < minRuns || performance.now() - start < budgetMs); r++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { us: 1000 * t[Math.floor(t.length / 2)], n: t.length };
}

/** Runs a tfjs op and reads its outputs, disposing everything (tf.tidy would walk a returned typed array element by element). */
function readAll(op) {
  const keep = tf.tidy(() => {
    const r = op();
    return Array.isArray(r) ? r : [r];
  });
  for (const t of keep) t.dataSync();
  tf.dispose(keep);
}

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let j = 0; j < n; j++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[j] = s / 2 ** 31 - 1;
  }
  return a;
}

const info = addon.info();
console.log(`bench-embed: ${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores, addon pool ${info.threads} threads, node ${process.version}, reps ${REPS}`);
console.log(`${"op".padEnd(9)} ${"shape B,L,K,D".padEnd(15)} ${"variant".padEnd(34)} ${"median us".padStart(11)} ${"GB/s".padStart(7)}  reps`);
for (const [B, L, K, D] of [[64, 64, 16, 192], [256, 196, 49, 384]]) {
  const s = sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - K / L, dilemmaProb: 0.2, rng: { seed: 1, counter: 0 } });
  const tok = rand(B * L * D, 1), pos = rand(L * D, 2), dy = rand(B * K * D, 3);
  const fwdBytes = 4 * 3 * B * K * D;
  const bwdBytes = 4 * (B * L * D + 2 * B * K * D + L * D);
  const shape = `${B},${L},${K},${D}`;
  const row = (op, variant, r, bytes) =>
    console.log(`${op.padEnd(9)} ${shape.padEnd(15)} ${variant.padEnd(34)} ${r.us.toFixed(0).padStart(11)} ${bytes ? (bytes / r.us / 1e3).toFixed(2).padStart(7) : "-".padStart(7)}  ${r.n}`);

  // Reference: memcpy (TypedArray.set) moving the forward's bytes, read + write counted.
  const cpySrc = new Float32Array((3 * B * K * D) / 2), cpyDst = new Float32Array(cpySrc.length);
  row("copy", "memcpy, same bytes as forward", median(() => cpyDst.set(cpySrc), REPS), fwdBytes);
  const out = new Float32Array(B * K * D);
  row("forward", "native (reused output)", median(() => addon.dilemmaEmbedForward(tok, pos, s.realPos, s.inputPos, B, L, K, D, out), REPS), fwdBytes);
  row("forward", "native (fresh output, as in tfjs)", median(() => addon.dilemmaEmbedForward(tok, pos, s.realPos, s.inputPos, B, L, K, D, new Float32Array(B * K * D)), REPS), fwdBytes);
  const tT = tf.tensor3d(tok, [B, L, D]), tP = tf.tensor2d(pos, [L, D]);
  const tR = tf.tensor2d(s.realPos, [B, K], "int32"), tI = tf.tensor2d(s.inputPos, [B, K], "int32"), tDy = tf.tensor3d(dy, [B, K, D]);
  row("forward", "tfjs cpu gather+add (composite)", median(() => readAll(() => dilemmaEmbedComposite(tT, tP, tR, tI)), REPS, 2_000, 1), fwdBytes);
  // core's DilemmaEmbed cpu kernel (plain JS loops), called through the kernel registry directly.
  const coreFwd = () => readAll(() => tf.engine().runKernel("DilemmaEmbed", { tokens: tT, posEmbed: tP, realPos: tR, inputPos: tI }));
  row("forward", "core DilemmaEmbed cpu kernel (JS)", median(coreFwd, REPS, 5_000), fwdBytes);

  const dTok = new Float32Array(B * L * D), dPos = new Float32Array(L * D);
  row("backward", "native (reused outputs)", median(() => addon.dilemmaEmbedBackward(dy, s.realPos, s.inputPos, B, L, K, D, dTok, dPos), REPS), bwdBytes);
  row("backward", "native (fresh outputs, as in tfjs)", median(() => addon.dilemmaEmbedBackward(dy, s.realPos, s.inputPos, B, L, K, D, new Float32Array(B * L * D), new Float32Array(L * D)), REPS), bwdBytes);
  // The tfjs composite backward (unsortedSegmentSum over B*L segments) costs O(segments * rows * D)
  // in tfjs-backend-cpu: minutes per call at these shapes, so it is only run on request.
  if (process.argv.includes("--with-composite-backward")) {
    row("backward", "tfjs cpu unsortedSegmentSum (composite)", median(() => readAll(() => dilemmaEmbedGradComposite(tDy, tR, tI, L)), REPS, 2_000, 1), bwdBytes);
  }
  const coreBwd = () => readAll(() => tf.engine().runKernel("DilemmaEmbedGrad", { dy: tDy, realPos: tR, inputPos: tI }, { numPatches: L }));
  row("backward", "core DilemmaEmbedGrad cpu kernel (JS)", median(coreBwd, REPS, 5_000), bwdBytes);

  tf.dispose([tT, tP, tR, tI, tDy]);
}
