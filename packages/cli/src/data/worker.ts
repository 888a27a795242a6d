/**
 * Worker-thread entry of the {@link Loader} pool: opens its own copy of the dataset (or takes the
 * samples sent with a task) and renders whole batches, transferring the buffers back.
 */
import { parentPort, workerData } from "node:worker_threads";
import { batchIndices, renderBatch } from "./batch.js";
import { openDataset } from "./open.js";
import type { TaskReply, TaskRequest, WorkerInit } from "./pool.js";
import type { Dataset, Sample } from "./types.js";

const init = workerData as WorkerInit;
const port = parentPort!;
let dataset: Promise<Dataset> | undefined;
if (init.source) {
  dataset = openDataset(init.source.spec, init.source.openOptions);
  dataset.catch(() => {}); // reported with the first task
}

port.on("message", async (task: TaskRequest) => {
  try {
    const indices = batchIndices(init.config, task.step);
    let samples: Sample[];
    let skipped: Dataset["skipped"] | undefined;
    if (task.samples) {
      samples = task.samples;
    } else {
      const ds = await dataset!;
      samples = await Promise.all(Array.from(indices, (i) => ds.get(init.split, i)));
      skipped = ds.skipped;
    }
    const batch = renderBatch(init.config, task.step, indices, samples);
    const reply: TaskReply = { id: task.id, ok: true, batch, skipped };
    port.postMessage(reply, [...batch.views.map((v) => v.buffer), batch.labels.buffer, batch.indices.buffer] as ArrayBuffer[]);
  } catch (e) {
    const reply: TaskReply = { id: task.id, ok: false, error: (e as Error).message ?? String(e) };
    port.postMessage(reply);
  }
});
