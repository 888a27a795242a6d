// Has the run's detection head learned anything? Read from the held-out evaluations in
// metrics.jsonl, so the inspector can say so instead of showing a flat heatmap without comment.
import type { MetricRecord } from "./metrics.js";

/** Below this held-out AUROC the detector is indistinguishable from chance in the heatmap. */
export const EMERGED_AUROC = 0.6;
/** From this AUROC on, misplaced patches are clearly hotter on the fixed 0–1 scale. */
export const CLEAR_AUROC = 0.75;

export interface DetectionVerdict {
  /** "none": no held-out evaluation yet; "not-emerged": AUROC < 0.6; "weak": < 0.75; "clear". */
  kind: "none" | "not-emerged" | "weak" | "clear";
  auroc?: number;
  step?: number;
}

/** The verdict of the latest eval record that has a detection AUROC. */
export function detectionVerdict(records: readonly MetricRecord[]): DetectionVerdict {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r.kind !== "eval" || r.detAuroc === undefined || !Number.isFinite(r.detAuroc)) continue;
    const kind = r.detAuroc < EMERGED_AUROC ? "not-emerged" : r.detAuroc < CLEAR_AUROC ? "weak" : "clear";
    return { kind, auroc: r.detAuroc, step: r.step };
  }
  return { kind: "none" };
}

/** One sentence for the inspector, or "" when there is nothing to say. */
export function verdictText(v: DetectionVerdict): string {
  if (v.kind === "none" || v.auroc === undefined) return "";
  const at = `held-out detection AUROC ${v.auroc.toFixed(2)} at step ${v.step} (0.50 = chance)`;
  if (v.kind === "not-emerged") {
    return `Detection has not emerged in this run: ${at}. The head's probabilities are about the same for every patch, so misplaced patches are not hotter on the 0–1 scale ("stretch to range" only magnifies noise). Train longer (--steps) or on data whose layout tells where a patch belongs (the default --data scenes).`;
  }
  if (v.kind === "weak") return `Detection is emerging but weak: ${at}. Misplaced patches are only slightly hotter on average.`;
  return `This run detects misplaced patches: ${at}.`;
}
