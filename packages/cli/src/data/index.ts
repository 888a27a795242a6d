/**
 * Data for dilemma-cli: datasets (procedural `scenes` and `shapes`, `mnist`, CIFAR binaries, image folders),
 * view augmentations (MoCo v3, DINO, eval) and a deterministic worker-thread batch loader.
 *
 * @example
 * ```ts
 * const ds = await openDataset("shapes", { imageSize: 32 });
 * const loader = new Loader(ds, { split: "train", batchSize: 64, imageSize: 32, recipe: "mocov3", seed: 0 });
 * const { views, labels } = await loader.next(); // views[0], views[1]: [64, 3, 32, 32]
 * await loader.close();
 * ```
 */
export type { Dataset, OpenOptions, Sample, Split } from "./types.js";
export { parseDataSpec, type DataKind, type DataSpec } from "./spec.js";
export { openDataset, datasetInfo, formatDatasetInfo, type DatasetInfo } from "./open.js";
export { NORMALIZE, checkAugment, recipeAugment, viewCount, type Augment, type ViewRecipe } from "./augment.js";
export type { Batch } from "./batch.js";
export { Loader, type LoaderOptions } from "./loader.js";
export { SHAPE_CLASSES, renderShape } from "./shapes.js";
export { DEFAULT_EVAL_SEED, evalIndices, readEvalSample } from "./eval-sample.js";
export { SCENE_CLASSES, SCENES_AUGMENT, renderScene } from "./scenes.js";
