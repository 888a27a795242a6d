/**
 * The images evaluation scores: a seeded, class-balanced sample of a whole split. Splits may be
 * stored in class order (`mnist`, `folder:`), so "the first n" would hold a few classes only.
 * The sample depends on the dataset, the split, n and the eval seed — never on the run's seed —
 * so every run and seed of a dataset is scored on the same images.
 */
import { permutation } from "./prng.js";
import { SPLITS, type Dataset, type Sample, type Split } from "./types.js";

/** Eval seed used when a run does not set one (fixed: runs stay comparable). */
export const DEFAULT_EVAL_SEED = 0;

/** Label of item `index` of `split`, without decoding the image where the source can. */
async function labelOf(ds: Dataset, split: Split, index: number): Promise<number> {
  if (ds.label) return ds.label(split, index);
  return (await ds.get(split, index)).label;
}

/**
 * Indices of `n` items of `split`: the whole split (in order) when n >= its size; otherwise each
 * class's items in a seeded random order, taken round-robin over the classes (sizes differ by at
 * most one, unless a class runs out), so the sample is balanced whatever the storage order.
 * Unlabelled items (label -1) form one group: a seeded uniform sample.
 */
export async function evalIndices(ds: Dataset, split: Split, n: number, seed = DEFAULT_EVAL_SEED): Promise<number[]> {
  const size = ds.size(split);
  if (!Number.isInteger(n) || n < 0) throw new Error(`eval sample size ${n} is invalid: use a whole number >= 0`);
  if (n >= size) return Array.from({ length: size }, (_, i) => i);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < size; i++) {
    const label = await labelOf(ds, split, i);
    let g = groups.get(label);
    if (!g) groups.set(label, (g = []));
    g.push(i);
  }
  const splitKey = SPLITS.indexOf(split);
  const order = [...groups.keys()].sort((a, b) => a - b).map((label) => {
    const items = groups.get(label)!;
    const perm = permutation(items.length, 0xe5a1, seed, splitKey, label);
    return Array.from(perm, (j) => items[j]);
  });
  const out: number[] = [];
  for (let round = 0; out.length < n; round++) {
    for (const items of order) {
      if (round < items.length) out.push(items[round]);
      if (out.length === n) break;
    }
  }
  return out;
}

/** The samples of {@link evalIndices}. */
export async function readEvalSample(ds: Dataset, split: Split, n: number, seed = DEFAULT_EVAL_SEED): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const i of await evalIndices(ds, split, n, seed)) out.push(await ds.get(split, i));
  return out;
}
