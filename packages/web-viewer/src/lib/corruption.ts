// Turning the inspector's manual edits into the (realPos, inputPos, labels) triple the model
// consumes. Positions are patch indices in row-major grid order; `realPos[i]` is where kept token
// i really is, `inputPos[i]` the positional embedding it receives.

export interface Positions {
  numPatches: number;
  realPos: Int32Array;
  inputPos: Int32Array;
  /** 1 where inputPos differs from realPos (the token is misplaced). */
  labels: Float32Array;
}

/** Swap the positional embeddings of two kept patches. */
export interface SwapEdit { kind: "swap"; a: number; b: number }
/** Give one kept patch the positional embedding of position `pos`. */
export interface AssignEdit { kind: "assign"; patch: number; pos: number }
export type Edit = SwapEdit | AssignEdit;

/** All patches kept, none misplaced. */
export function identityPositions(numPatches: number): Positions {
  const realPos = Int32Array.from({ length: numPatches }, (_, i) => i);
  return { numPatches, realPos, inputPos: realPos.slice(), labels: new Float32Array(numPatches) };
}

/** Kept set `realPos`, none misplaced. */
export function keptPositions(numPatches: number, realPos: ArrayLike<number>): Positions {
  const rp = Int32Array.from(realPos);
  return { numPatches, realPos: rp, inputPos: rp.slice(), labels: new Float32Array(rp.length) };
}

/**
 * Applies edits in order on top of `base` (whose own corruption is kept). A swap exchanges the
 * current inputPos of two kept patches; an assignment overwrites one. Labels are recomputed as
 * inputPos != realPos, so swapping a pair back restores "not misplaced".
 */
export function applyEdits(base: Positions, edits: readonly Edit[]): Positions {
  const { numPatches: L } = base;
  const realPos = base.realPos.slice();
  const inputPos = base.inputPos.slice();
  const slot = new Map<number, number>();
  realPos.forEach((p, i) => slot.set(p, i));
  const slotOf = (patch: number): number => {
    const i = slot.get(patch);
    if (i === undefined) throw new Error(`patch ${patch} is dropped; only kept patches can be edited`);
    return i;
  };
  for (const e of edits) {
    if (e.kind === "swap") {
      if (e.a === e.b) continue;
      const i = slotOf(e.a), j = slotOf(e.b);
      [inputPos[i], inputPos[j]] = [inputPos[j], inputPos[i]];
    } else {
      if (!(Number.isInteger(e.pos) && e.pos >= 0 && e.pos < L)) throw new Error(`position ${e.pos} is outside 0..${L - 1}`);
      inputPos[slotOf(e.patch)] = e.pos;
    }
  }
  const labels = Float32Array.from(realPos, (p, i) => (inputPos[i] !== p ? 1 : 0));
  return { numPatches: L, realPos, inputPos, labels };
}

/** Per-grid-cell view of positions: which slot (kept token) sits there, or -1 when dropped. */
export function slotsByPatch(pos: Positions): Int32Array {
  const out = new Int32Array(pos.numPatches).fill(-1);
  pos.realPos.forEach((p, i) => { out[p] = i; });
  return out;
}

/** Accuracy of thresholded probabilities against labels; NaN when there are no tokens. */
/**
 * What a head that detects nothing scores: the majority rate of the labels (1 - p when a
 * fraction p < 0.5 is misplaced). Accuracy is shown beside it.
 */
export function detectionChance(labels: ArrayLike<number>): number {
  if (labels.length === 0) return NaN;
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i] ? 1 : 0;
  return Math.max(pos, labels.length - pos) / labels.length;
}

/** Mean of the recalls of "misplaced" and "in place" (0.5 = chance); NaN without both classes. */
export function balancedDetectionAccuracy(probs: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  if (probs.length !== labels.length) throw new Error(`${probs.length} probabilities for ${labels.length} labels`);
  let pos = 0, neg = 0, tp = 0, tn = 0;
  for (let i = 0; i < probs.length; i++) {
    const predicted = probs[i] >= threshold;
    if (labels[i]) { pos++; if (predicted) tp++; } else { neg++; if (!predicted) tn++; }
  }
  return pos && neg ? (tp / pos + tn / neg) / 2 : NaN;
}

export function detectionAccuracy(probs: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  if (probs.length !== labels.length) throw new Error(`${probs.length} probabilities for ${labels.length} labels`);
  if (probs.length === 0) return NaN;
  let right = 0;
  for (let i = 0; i < probs.length; i++) if ((probs[i] >= threshold ? 1 : 0) === labels[i]) right++;
  return right / probs.length;
}
