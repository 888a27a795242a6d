import { openCifar } from "./cifar.js";
import { openFolder } from "./folder.js";
import { openMnist } from "./mnist.js";
import { openScenes } from "./scenes.js";
import { openShapes } from "./shapes.js";
import { parseDataSpec } from "./spec.js";
import type { Dataset, OpenOptions } from "./types.js";

/**
 * Opens a dataset from a spec (see {@link parseDataSpec}); every sample is delivered at
 * `opts.imageSize` square. `seed` varies the procedural `scenes` and `shapes` images; `cacheDir` enables the
 * on-disk decoded-image cache of `folder` datasets.
 *
 * @throws Error naming the path/option at fault and the fix (missing folder, wrong file size, ...).
 */
export async function openDataset(spec: string, opts: OpenOptions): Promise<Dataset> {
  const { imageSize } = opts;
  if (!Number.isInteger(imageSize) || imageSize < 1 || imageSize > 4096) {
    throw new Error(`imageSize ${imageSize} is invalid: use a whole number of pixels in [1, 4096], e.g. 32`);
  }
  const p = parseDataSpec(spec);
  let ds: Dataset;
  switch (p.kind) {
    case "scenes":
      ds = openScenes(spec, p.options, imageSize, opts.seed ?? 0);
      break;
    case "shapes":
      ds = openShapes(spec, p.options, imageSize, opts.seed ?? 0);
      break;
    case "mnist":
      ds = openMnist(spec, p.options, imageSize, opts.prepared);
      break;
    case "cifar10":
    case "cifar100":
      ds = openCifar(p.kind, spec, p.path!, p.options, imageSize, opts.prepared);
      break;
    case "folder":
      ds = await openFolder(spec, p.path!, p.options, imageSize, opts.cacheDir, opts.prepared);
      break;
  }
  ds.openOptions = { ...opts, prepared: ds.openOptions?.prepared ?? opts.prepared };
  return ds;
}

/** Summary of a dataset, for `dilemma-cli data <spec> --info`. */
export interface DatasetInfo {
  spec: string;
  counts: { train: number; val: number; test: number };
  numClasses: number;
  classNames: string[];
  imageSize: number;
  skipped: { count: number; examples: string[] };
}

/** Opens `spec` (image size default 32), reads its sizes and classes, and closes it. */
export async function datasetInfo(spec: string, opts: { imageSize?: number } = {}): Promise<DatasetInfo> {
  const ds = await openDataset(spec, { imageSize: opts.imageSize ?? 32 });
  try {
    return {
      spec,
      counts: { train: ds.size("train"), val: ds.size("val"), test: ds.size("test") },
      numClasses: ds.numClasses,
      classNames: [...ds.classNames],
      imageSize: ds.imageSize,
      skipped: { count: ds.skipped.count, examples: [...ds.skipped.examples] },
    };
  } finally {
    await ds.close?.();
  }
}

/** Human-readable multi-line report of {@link datasetInfo}. */
export function formatDatasetInfo(info: DatasetInfo): string {
  const shown = info.classNames.slice(0, 20).join(", ") + (info.classNames.length > 20 ? `, ... (${info.classNames.length - 20} more)` : "");
  const lines = [
    `data:    ${info.spec}`,
    `images:  train ${info.counts.train}, val ${info.counts.val}, test ${info.counts.test} (at ${info.imageSize}x${info.imageSize})`,
    info.numClasses > 0 ? `classes: ${info.numClasses} (${shown})` : "classes: none (unlabelled)",
  ];
  if (info.skipped.count > 0) {
    lines.push(`skipped: ${info.skipped.count} unreadable file(s):`);
    for (const e of info.skipped.examples) lines.push(`  ${e}`);
    if (info.skipped.count > info.skipped.examples.length) lines.push(`  ... and ${info.skipped.count - info.skipped.examples.length} more`);
  }
  return lines.join("\n");
}
