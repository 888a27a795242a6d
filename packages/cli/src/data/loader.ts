/**
 * Deterministic, prefetching batch loader. The batch of global step s is a pure function of
 * (dataset, seed, s): which samples (a per-epoch permutation) and every augmentation draw are
 * keyed by the seed, step and sample index — never by timing, worker count or prefetch depth.
 */
import { availableParallelism } from "node:os";
import { checkAugment, viewCount, type Augment, type ViewRecipe } from "./augment.js";
import { batchIndices, renderBatch, stepsPerEpoch, type Batch, type BatchConfig } from "./batch.js";
import { WorkerPool, type TaskReply } from "./pool.js";
import { checkSplit, type Dataset, type Split } from "./types.js";

/** Options of a {@link Loader}. */
export interface LoaderOptions {
  split: Split;
  batchSize: number;
  /** Side of the square views (the dataset is resized to it when it differs). */
  imageSize: number;
  recipe: ViewRecipe;
  /** Augmentation strength (crop scale, flip, colour jitter); default: the recipe's own. */
  augment?: Augment;
  seed: number;
  /** First global step to deliver (resume); default 0. */
  startStep?: number;
  /** Worker threads; 0 renders on the calling thread. Default: cores - 1, at most 4. */
  workers?: number;
  /** Batches rendered ahead of the one being taken (workers > 0 only); default 2 per worker. */
  prefetch?: number;
  /** Drop the last incomplete batch of each epoch; default true when shuffling, else false. */
  dropLast?: boolean;
  /** Shuffle each epoch; default true for "train", false otherwise. */
  shuffle?: boolean;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`loader option ${name}=${v} is invalid: use a whole number >= ${min}`);
}

/** Delivers batches of augmented views in step order, rendering ahead in worker threads. */
export class Loader {
  /** Batches per pass over the split. */
  readonly stepsPerEpoch: number;
  private readonly split: Split;
  private readonly config: BatchConfig;
  private readonly prefetch: number;
  private readonly workers: number;
  private cursor: number;
  private scheduled: number;
  private readonly pending = new Map<number, Promise<Batch>>();
  private pool: Promise<WorkerPool> | undefined;
  private closed = false;

  constructor(
    private readonly ds: Dataset,
    opts: LoaderOptions,
  ) {
    checkSplit(opts.split);
    checkInt("batchSize", opts.batchSize, 1);
    checkInt("imageSize", opts.imageSize, 1);
    viewCount(opts.recipe); // throws on an unknown recipe
    if (opts.augment) checkAugment(opts.augment);
    if (!Number.isSafeInteger(opts.seed)) throw new Error(`loader option seed=${opts.seed} is invalid: use a whole number`);
    const shuffle = opts.shuffle ?? opts.split === "train";
    const dropLast = opts.dropLast ?? shuffle;
    const n = ds.size(opts.split);
    if (n === 0) throw new Error(`split "${opts.split}" of data ${ds.spec} is empty: choose another split or a dataset with ${opts.split} images`);
    if (dropLast && n < opts.batchSize) {
      throw new Error(`split "${opts.split}" of data ${ds.spec} has ${n} images, fewer than the batch size ${opts.batchSize}: lower the batch size or add images`);
    }
    this.config = { n, batchSize: opts.batchSize, imageSize: opts.imageSize, recipe: opts.recipe, ...(opts.augment ? { augment: opts.augment } : {}), seed: opts.seed, dropLast, shuffle };
    this.stepsPerEpoch = stepsPerEpoch(this.config);
    this.cursor = opts.startStep ?? 0;
    checkInt("startStep", this.cursor, 0);
    this.scheduled = this.cursor;
    this.workers = opts.workers ?? Math.max(0, Math.min(4, availableParallelism() - 1));
    checkInt("workers", this.workers, 0);
    this.prefetch = opts.prefetch ?? 2 * Math.max(1, this.workers);
    checkInt("prefetch", this.prefetch, 1);
    this.split = opts.split;
  }

  /** The batch of the next step (steps count up from `startStep`). */
  next(): Promise<Batch> {
    if (this.closed) return Promise.reject(new Error("data loader is closed"));
    const step = this.cursor++;
    if (this.workers === 0) return this.renderInline(step);
    // Keep this step and `prefetch` later ones in flight.
    while (this.scheduled <= step + this.prefetch) this.schedule(this.scheduled++);
    const p = this.pending.get(step)!;
    this.pending.delete(step);
    return p;
  }

  private schedule(step: number): void {
    this.pool ??= WorkerPool.create(this.workers, {
      config: this.config,
      split: this.split,
      source: this.ds.openOptions ? { spec: this.ds.spec, openOptions: this.ds.openOptions } : null,
    });
    const p = (async () => {
      const pool = await this.pool!;
      // A dataset that cannot be re-opened in a thread (built in memory) sends its samples along.
      const samples = this.ds.openOptions ? undefined : await this.fetch(step);
      const reply = await pool.run(step, samples);
      this.mergeSkips(reply);
      return reply.batch;
    })();
    p.catch(() => {}); // rejections surface when the step is taken
    this.pending.set(step, p);
  }

  private async fetch(step: number) {
    const indices = batchIndices(this.config, step);
    return Promise.all(Array.from(indices, (i) => this.ds.get(this.split, i)));
  }

  private async renderInline(step: number): Promise<Batch> {
    const samples = await this.fetch(step);
    return renderBatch(this.config, step, batchIndices(this.config, step), samples);
  }

  /**
   * Worker threads read their own copy of the dataset: fold skips we have not seen into ours
   * (deduplicated by message, since several threads may fail on the same file).
   */
  private mergeSkips(reply: TaskReply & { ok: true }): void {
    const s = reply.skipped;
    if (!s || s.count === 0) return;
    for (const e of s.examples) {
      if (!this.ds.skipped.examples.includes(e)) {
        this.ds.skipped.count++;
        if (this.ds.skipped.examples.length < 5) this.ds.skipped.examples.push(e);
      }
    }
  }

  /** Stops the worker threads (the dataset stays open). */
  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    if (this.pool) await (await this.pool.catch(() => undefined))?.close();
  }
}
