// A built-in procedural data set (shapes, scenes): every image is rendered on the fly as a pure
// function of (seed, split, index), and labels cycle through the classes, so every split is
// balanced to within one image and a label is known without rendering.
import { checkOptions, numOption } from "./spec.js";
import { SPLITS, checkIndex, checkSplit, type Dataset, type Sample, type Split } from "./types.js";

/** Renders the image of class `label` at (seed, split number, index) as RGB bytes. */
export type Render = (label: number, size: number, seed: number, split: number, index: number) => Uint8Array;

/** Options: n (train size, 20000), val (2000), test (2000), classes (all, at most all). */
export function openProcedural(
  name: string, spec: string, options: Record<string, string>, imageSize: number, seed: number,
  classes: readonly string[], render: Render, extra: Pick<Dataset, "augment"> = {},
): Dataset {
  checkOptions(name, options, ["n", "val", "test", "classes"]);
  const sizes: Record<Split, number> = {
    train: numOption(options, "n", 20000, 1, 1e9, true),
    val: numOption(options, "val", 2000, 0, 1e9, true),
    test: numOption(options, "test", 2000, 0, 1e9, true),
  };
  const numClasses = numOption(options, "classes", classes.length, 2, classes.length, true);
  const label = (split: Split, index: number): number => {
    checkSplit(split);
    checkIndex(split, index, sizes[split]);
    return index % numClasses;
  };
  return {
    spec,
    name,
    numClasses,
    classNames: classes.slice(0, numClasses),
    imageSize,
    skipped: { count: 0, examples: [] },
    ...extra,
    size: (split) => {
      checkSplit(split);
      return sizes[split];
    },
    get(split, index): Sample {
      const l = label(split, index);
      return { pixels: render(l, imageSize, seed, SPLITS.indexOf(split), index), width: imageSize, height: imageSize, label: l };
    },
    label,
  };
}
