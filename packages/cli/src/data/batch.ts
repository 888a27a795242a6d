/**
 * Which samples make up the batch for a step, and how a batch is rendered. Shared by the
 * inline loader and the worker threads so both produce identical bytes.
 */
import { renderView, viewCount, type Augment, type ViewRecipe } from "./augment.js";
import { permutation } from "./prng.js";
import type { Sample } from "./types.js";

/** One batch of views, ready for the model. */
export interface Batch {
  /** One tensor per view, each [B, 3, S, S] (NCHW), normalised with {@link NORMALIZE}. */
  views: Float32Array[];
  /** Class of each sample (-1 when unlabelled). */
  labels: Int32Array;
  /** Dataset index of each sample in its split. */
  indices: Int32Array;
  /** Global step this batch belongs to. */
  step: number;
}

/** The fixed parameters of a loader's batch sequence. */
export interface BatchConfig {
  n: number;
  batchSize: number;
  imageSize: number;
  recipe: ViewRecipe;
  /** Augmentation strength; the recipe's own when unset. */
  augment?: Augment;
  seed: number;
  dropLast: boolean;
  shuffle: boolean;
}

/** Batches per pass over the split. */
export function stepsPerEpoch(c: BatchConfig): number {
  return c.dropLast ? Math.floor(c.n / c.batchSize) : Math.ceil(c.n / c.batchSize);
}

let permCache: { key: string; perm: Int32Array } | undefined;

/** Dataset indices of the batch at global `step`: a per-epoch permutation keyed by (seed, epoch). */
export function batchIndices(c: BatchConfig, step: number): Int32Array {
  const spe = stepsPerEpoch(c);
  const epoch = Math.floor(step / spe);
  const pos = step - epoch * spe;
  const lo = pos * c.batchSize;
  const hi = Math.min(c.n, lo + c.batchSize);
  if (!c.shuffle) return Int32Array.from({ length: hi - lo }, (_, i) => lo + i);
  const key = `${c.n}/${c.seed}/${epoch}`;
  if (permCache?.key !== key) permCache = { key, perm: permutation(c.n, c.seed, 0xe90c, epoch) };
  return permCache.perm.slice(lo, hi);
}

/** Renders the views of `samples` (in batch order) for `step`. */
export function renderBatch(c: BatchConfig, step: number, indices: Int32Array, samples: Sample[]): Batch {
  const B = samples.length;
  const S = c.imageSize;
  const per = 3 * S * S;
  const nViews = viewCount(c.recipe);
  const views = Array.from({ length: nViews }, () => new Float32Array(B * per));
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    labels[b] = samples[b].label;
    for (let v = 0; v < nViews; v++) {
      renderView(samples[b], c.recipe, v, S, { seed: c.seed, step, slot: indices[b] }, views[v], b * per, c.augment);
    }
  }
  return { views, labels, indices, step };
}
