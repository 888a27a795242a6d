// The embed-atomic section: what only the addon's own check (addon.cudaDilemmaCheck,
// csrc/dilemma/cuda_check.cu) measures, since addon().gpu reaches none of it: the atomic embed
// backward (memset + float atomicAdd for dPos: fast, not deterministic) against the deterministic
// one, the error flag an out-of-range realPos must raise, and the D2D copy bandwidth; at the
// embed family's shapes, with the H200 anchors and targets. CUDA only: the C++ check runs its
// kernels straight on device 0, so the host device cannot stand in for it.
import type { CudaDilemmaCheckResult, CudaDilemmaCheckRow } from "@dilemma/native";
import { EMBED_ANCHOR_BATCH, EMBED_ANCHOR_US, EMBED_TARGET, H200_COPY_GBPS } from "./anchors.js";
import { D, KEPT, L, type RunEnv } from "./case.js";
import { EXTRA_SHAPES } from "./families/embed.js";
import type { SectionName } from "./options.js";
import { ex, fx, log, pad, result, section, type Json } from "./report.js";

export const EMBED_ATOMIC: SectionName = "embed-atomic";

/** The anchors' shape (ViT-S/16 training) first, then the embed family's other kernel paths. */
const SHAPES = [{ B: EMBED_ANCHOR_BATCH, L, K: KEPT, D }, ...EXTRA_SHAPES];
/** PyTorch H200 µs per row of cudaDilemmaCheck, at the first shape only. */
const ANCHOR_US: Record<string, number> = {
  embed_fwd: EMBED_ANCHOR_US.dilemmaEmbed, embed_bwd: EMBED_ANCHOR_US.dilemmaEmbedGrad,
  embed_bwd_atomic: EMBED_ANCHOR_US.dilemmaEmbedGrad, embed_fwd_bwd: EMBED_ANCHOR_US.dilemmaEmbed + EMBED_ANCHOR_US.dilemmaEmbedGrad,
};

interface Row extends CudaDilemmaCheckRow { shape: string; ok: boolean; GBps: number | null; copyFrac: number | null; anchorSpeedup: number | null }
interface Targets { fwdCopyFrac: number | null; fwdMet: boolean; fwdBwdSpeedup: number | null; fwdBwdMet: boolean }
type Check = (o: { B: number; L: number; K: number; D: number; p: number; seed: number; step: number; reps: number }) => CudaDilemmaCheckResult;

function cudaCheck({ native }: RunEnv): Check | null {
  try {
    const a = native.dilemmaAddon();
    return typeof a.cudaDilemmaCheck === "function" ? a.cudaDilemmaCheck.bind(a) : null;
  } catch {
    return null; // no DILEMMA kernels in this addon
  }
}

export function embedAtomicSection(env: RunEnv): Promise<Json | null> {
  const { opts } = env;
  if (!opts.sections.includes(EMBED_ATOMIC)) return Promise.resolve(null);
  const check = cudaCheck(env);
  const why = opts.device !== "cuda" ? "needs a CUDA device" : check === null ? "the addon has no cudaDilemmaCheck (built without CUDA)" : null;
  if (why !== null || check === null) {
    log(`\n== ${EMBED_ATOMIC}: SKIPPED (${why})`);
    result.sections[EMBED_ATOMIC] = { skipped: why };
    return Promise.resolve(null);
  }
  return section(EMBED_ATOMIC, 45, async (budget, t0) => {
    const left = () => budget - (performance.now() - t0) / 1000;
    const rows: Row[] = [], shapes: Json[] = [];
    let failures = 0, device = "";
    log(`addon.cudaDilemmaCheck: CUDA vs CPU reference on its own inputs, outputs NaN-poisoned; median of ${opts.reps} cudaEvent timings`);
    log(`${"kernel".padEnd(17)} ${"shape B,L,K,D".padEnd(16)} ${pad("ok", 3)} ${pad("bad", 6)} ${pad("maxAbsErr", 9)} ${pad("us", 9)} ${pad("GB/s", 7)} ${pad("%copy", 5)}  vs`);
    for (const [i, s] of SHAPES.entries()) {
      if (left() < 5) { log(`${EMBED_ATOMIC}: ${SHAPES.length - i} shape(s) SKIPPED (budget spent)`); break; }
      const r = check({ ...s, p: 0.2, seed: 1234 + i, step: i, reps: opts.reps });
      device = r.device;
      const shape = `${s.B},${s.L},${s.K},${s.D}`;
      shapes.push({ ...s, device: r.device, cc: r.cc, copyGBps: r.copyGBps, boundsErrorDetected: r.boundsErrorDetected });
      const bwdUs = r.rows.find((x) => x.kernel === "embed_bwd")?.us ?? null;
      for (const x of r.rows) {
        const ok = x.mismatches === 0 && !Number.isNaN(x.maxAbsErr);
        if (!ok) failures++;
        const GBps = x.bytes > 0 ? x.bytes / x.us / 1e3 : null;
        const anchor = i === 0 ? ANCHOR_US[x.kernel] : undefined;
        const row: Row = { ...x, shape, ok, GBps, copyFrac: GBps === null ? null : GBps / r.copyGBps, anchorSpeedup: anchor ? anchor / x.us : null };
        rows.push(row);
        // the atomic backward is only worth its nondeterminism if it beats the deterministic one by enough
        const vs = [row.anchorSpeedup === null ? "" : `PyTorch H200 ${anchor!.toFixed(0)} us: ${row.anchorSpeedup.toFixed(2)}x`,
          x.kernel === "embed_bwd_atomic" && bwdUs ? `time / deterministic: ${(x.us / bwdUs).toFixed(2)}` : ""].filter((v) => v).join("; ");
        log(`${x.kernel.padEnd(17)} ${shape.padEnd(16)} ${pad(ok ? "yes" : "NO", 3)} ${pad(x.mismatches, 6)} ${pad(ex(x.maxAbsErr), 9)} ${pad(fx(x.us, 1), 9)} ${pad(fx(GBps, 0), 7)} ${pad(row.copyFrac === null ? "-" : (100 * row.copyFrac).toFixed(0), 5)}  ${vs}`.trimEnd());
      }
      if (!r.boundsErrorDetected) {
        failures++;
        log(`  FAIL ${shape}: an out-of-range realPos was not flagged by embed_fwd`);
      }
    }
    const first = shapes[0] as { copyGBps?: number } | undefined;
    log(`copy bandwidth (cudaMemcpy D2D 256 MiB, read + write): ${fx(first?.copyGBps, 0)} GB/s (H200 reference ~${H200_COPY_GBPS})`);
    log(`bounds: an out-of-range realPos flagged at ${shapes.filter((s) => s.boundsErrorDetected).length} of ${shapes.length} shapes`);
    const fwd = rows.find((x) => x.shape === rows[0]?.shape && x.kernel === "embed_fwd");
    const fb = rows.find((x) => x.shape === rows[0]?.shape && x.kernel === "embed_fwd_bwd");
    const targets: Targets = {
      fwdCopyFrac: fwd?.copyFrac ?? null, fwdMet: (fwd?.copyFrac ?? 0) >= EMBED_TARGET.fwdCopyFrac,
      fwdBwdSpeedup: fb?.anchorSpeedup ?? null, fwdBwdMet: (fb?.anchorSpeedup ?? 0) >= EMBED_TARGET.fwdBwdSpeedup,
    };
    const notH200 = device && !/H200/.test(device) ? ` (anchor is H200; this is ${device})` : "";
    log(`target forward >= ${100 * EMBED_TARGET.fwdCopyFrac}% of copy bandwidth at ${rows[0]?.shape}: ${fx(targets.fwdCopyFrac === null ? null : 100 * targets.fwdCopyFrac, 0)}% -> ${targets.fwdMet ? "MET" : "NOT MET"}`);
    log(`target fwd+bwd >= ${EMBED_TARGET.fwdBwdSpeedup}x PyTorch: ${fx(targets.fwdBwdSpeedup, 2)}x -> ${targets.fwdBwdMet ? "MET" : "NOT MET"}${notH200}`);
    // targets are reported, not judged (the anchors are another card's); wrong results and a missed bounds flag fail the check
    if (failures) result.failures.push(`${EMBED_ATOMIC}: ${failures} failure(s)`);
    log(failures ? `${EMBED_ATOMIC}: ${failures} FAILURE(S): see rows with ok = NO` : `${EMBED_ATOMIC}: every row matches the CPU reference, every bad index flagged`);
    return { reps: opts.reps, shapes, rows, targets, failures };
  });
}

/** One summary line; false when the section did not run (its skip line said why). */
export function embedAtomicSummary(): boolean {
  const s = result.sections[EMBED_ATOMIC] as { rows?: Row[]; failures?: number; targets?: Targets } | undefined;
  if (!s?.rows || !s.targets) return false;
  const t = s.targets, met = (v: boolean) => (v ? "MET" : "not met");
  log(`${EMBED_ATOMIC}: ${s.rows.length} rows, ${s.failures ?? 0} failure(s); forward ${fx(t.fwdCopyFrac === null ? null : 100 * t.fwdCopyFrac, 0)}% of copy (${met(t.fwdMet)}), fwd+bwd ${fx(t.fwdBwdSpeedup, 2)}x PyTorch H200 (${met(t.fwdBwdMet)})`);
  return true;
}
