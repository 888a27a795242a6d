import type { Augment } from "./augment.js";

/** A dataset split. */
export type Split = "train" | "val" | "test";

/** The three splits, in a fixed order (used for ids and reports). */
export const SPLITS: readonly Split[] = ["train", "val", "test"];

/** One image: interleaved RGB bytes (HWC, 3 channels) and its label. */
export interface Sample {
  /** `height * width * 3` bytes, row-major, RGB interleaved. */
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Class index, or -1 when the dataset is unlabelled. */
  label: number;
}

/** What a dataset was opened with; lets a worker thread open the same dataset again. */
export interface OpenOptions {
  imageSize: number;
  seed?: number;
  cacheDir?: string;
  /**
   * Internal: what a dataset found when it was first opened (e.g. a folder's checked file list),
   * handed to worker threads so they do not scan again. Leave unset.
   */
  prepared?: unknown;
}

/** A source of square RGB images at `imageSize`, split into train/val/test. */
export interface Dataset {
  /** The spec it was opened from, e.g. `"shapes:n=20000"`. */
  spec: string;
  /** Short human name, e.g. `"shapes"`, `"cifar10"`. */
  name: string;
  /** Number of classes; 0 when unlabelled. */
  numClasses: number;
  classNames: string[];
  /** Every sample is delivered at `imageSize` x `imageSize` (resized at load). */
  imageSize: number;
  size(split: Split): number;
  get(split: Split, index: number): Promise<Sample> | Sample;
  /**
   * The label of `get(split, index)` without decoding the image (evaluation samples balance
   * classes by it). Optional: without it the label is read through `get`.
   */
  label?(split: Split, index: number): number;
  /** Files that could not be read (and were replaced by a neighbour). */
  skipped: { count: number; examples: string[] };
  close?(): Promise<void>;
  /**
   * Training augmentation defaults of this data set (flags override them; unset fields take the
   * recipe's). Set where the layout carries where a part belongs, which crops and flips erase.
   */
  augment?: Partial<Augment>;
  /** Set by {@link openDataset}: the options to open an identical copy in a worker thread. */
  openOptions?: OpenOptions;
}

/** Throws a clear error when `split` is not one of the three. */
export function checkSplit(split: string): asserts split is Split {
  if (split !== "train" && split !== "val" && split !== "test") {
    throw new Error(`unknown split "${split}": use "train", "val" or "test"`);
  }
}

/** Throws when `index` is outside `[0, n)` for the split. */
export function checkIndex(split: Split, index: number, n: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new Error(`sample index ${index} out of range for split "${split}" (size ${n})`);
  }
}
