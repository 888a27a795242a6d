/**
 * `folder:<dir>`: JPEG/PNG/WebP images, one sub-folder per class (dir/cat/1.jpg) or flat (no
 * labels). Decoded by sharp, resized to the training size with a centre "cover" crop, cached in
 * memory and optionally on disk (keyed by path, mtime, size and image size), so later epochs do
 * not decode again. Headers are checked at open: unreadable files are skipped and reported, and
 * images below `minSize` fail at once.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import type { Sharp, SharpOptions } from "sharp";
import { heldOutSplit, hashString } from "./split.js";
import { checkOptions, numOption } from "./spec.js";
import { checkIndex, checkSplit, type Dataset, type Sample, type Split } from "./types.js";

const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;
const MAX_EXAMPLES = 5;
/** Decoded images kept in memory per dataset copy; beyond it only the disk cache helps. */
const MEMORY_BUDGET_BYTES = 1 << 30;
const LAYOUT_HELP = "put JPEG/PNG/WebP files in it, one sub-folder per class (dir/cat/1.jpg) or directly in it for unlabelled data";

/** sharp, loaded on first use so threads rendering other datasets do not pay its start-up. */
let sharpLib: ((input: string, options?: SharpOptions) => Sharp) | undefined;
async function sharp(input: string, options?: SharpOptions): Promise<Sharp> {
  sharpLib ??= (await import("sharp")).default;
  return sharpLib(input, options);
}

interface Entry {
  path: string;
  label: number;
  mtimeMs: number;
  bytes: number;
}

/** The checked file list, passed to worker threads so they skip the scan. */
interface Prepared {
  dir: string;
  key: string;
  classDirs: string[];
  labelled: boolean;
  items: Record<Split, Entry[]>;
  skipped: { count: number; examples: string[] };
}

/** Called for a path the listing leaves out, with the reason. */
type OnSkip = (path: string, why: string) => void;

/**
 * All image files under `dir` (recursively, following links), sorted, skipping hidden names.
 * Symlink loops (a link to an ancestor, or links pointing at each other) and entries that cannot
 * be read are left out and passed to `onSkip`. `ancestors` holds the real paths above `dir`.
 */
function listImages(dir: string, onSkip: OnSkip = () => undefined, ancestors: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  let real: string;
  let entries;
  try {
    real = realpathSync(dir);
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    onSkip(dir, errorReason(e));
    return out;
  }
  const here = new Set(ancestors).add(real);
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    let st;
    try {
      st = e.isSymbolicLink() ? statSync(p, { throwIfNoEntry: false }) : e;
    } catch (err) {
      onSkip(p, errorReason(err));
      continue;
    }
    if (!st) continue;
    if (st.isDirectory()) {
      if (e.isSymbolicLink() && here.has(realpathSync(p))) onSkip(p, "symlink loop: links to a folder above it");
      else out.push(...listImages(p, onSkip, here));
    } else if (st.isFile() && IMAGE_EXT.test(e.name)) out.push(p);
  }
  return out.sort();
}

function errorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ELOOP" ? "symlink loop" : code ?? (e as Error).message;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/** Decodes one image to `size` x `size` RGB bytes (cover crop, EXIF orientation applied). */
export async function decodeImage(path: string, size: number): Promise<Uint8Array> {
  const { data, info } = await (await sharp(path, { failOn: "error" }))
    .rotate()
    .resize(size, size, { fit: "cover", position: "centre" })
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  // Grey input can come back with one channel: expand it.
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i * info.channels];
  return out;
}

/** Lists the images, checks every header once, and assigns the splits. */
async function scanFolder(dir: string, dirArg: string, key: string, val: number, test: number, minSize: number): Promise<Prepared> {
  const skipped = { count: 0, examples: [] as string[] };
  const skip = (path: string, why: string): void => {
    skipped.count++;
    if (skipped.examples.length < MAX_EXAMPLES) skipped.examples.push(`${path} (${why})`);
  };
  // Class layout when any sub-folder holds images; otherwise flat and unlabelled. Each class
  // folder is listed once (loops and unreadable entries reported once, not per pass).
  const root = new Set([realpathSync(dir)]);
  const lists = new Map(readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort()
    .map((name) => [name, listImages(join(dir, name), skip, root)] as const));
  const classDirs = [...lists.keys()].filter((name) => lists.get(name)!.length > 0);
  const labelled = classDirs.length > 0;
  if (!labelled) skipped.count = skipped.examples.length = 0;
  const files: { path: string; label: number }[] = labelled
    ? classDirs.flatMap((name, label) => lists.get(name)!.map((path) => ({ path, label })))
    : listImages(dir, skip).map((path) => ({ path, label: -1 }));
  if (files.length === 0) throw new Error(`image folder ${dir} has no images (.jpg, .jpeg, .png, .webp): ${LAYOUT_HELP}`);

  // Check every header once: unreadable files are skipped, too-small images are an error.
  const metas = await mapLimit(files, 16, async (f) => {
    try {
      const st = statSync(f.path);
      const m = await (await sharp(f.path)).metadata();
      return { ...f, w: m.width ?? 0, h: m.height ?? 0, mtimeMs: st.mtimeMs, bytes: st.size };
    } catch (e) {
      skip(f.path, (e as Error).message.split("\n")[0]);
      return null;
    }
  });
  const tooSmall = metas.filter((m) => m !== null && Math.min(m.w, m.h) < minSize);
  if (tooSmall.length > 0) {
    const m = tooSmall[0]!;
    throw new Error(
      `${tooSmall.length} image(s) in ${dir} are smaller than minSize=${minSize} px, e.g. ${m.path} (${m.w}x${m.h}): ` +
        `remove or enlarge them, or lower the limit with folder:${dirArg}?minSize=<px> (at least the patch size)`,
    );
  }
  const items: Record<Split, Entry[]> = { train: [], val: [], test: [] };
  for (const m of metas) {
    if (m === null) continue;
    const rel = relative(dir, m.path).split(sep).join("/");
    items[heldOutSplit(hashString(rel), val, test)].push({ path: m.path, label: m.label, mtimeMs: m.mtimeMs, bytes: m.bytes });
  }
  if (items.train.length === 0) {
    throw new Error(
      `image folder ${dir} has no readable training images (${skipped.count} unreadable, e.g. ${skipped.examples[0] ?? "-"}): ${LAYOUT_HELP}`,
    );
  }

  return { dir, key, classDirs, labelled, items, skipped };
}

/**
 * Options: val (held-out fraction, 0.1), test (fraction, 0), minSize (smallest accepted width or
 * height in pixels, default 8 — use the model's patch size or more).
 */
export async function openFolder(
  spec: string,
  dirArg: string,
  options: Record<string, string>,
  imageSize: number,
  cacheDir?: string,
  prepared?: unknown,
): Promise<Dataset> {
  checkOptions("folder", options, ["val", "test", "minSize"]);
  const val = numOption(options, "val", 0.1, 0, 0.9);
  const test = numOption(options, "test", 0, 0, 0.9);
  const minSize = numOption(options, "minSize", 8, 1, 1e6, true);
  if (val + test >= 1) throw new Error(`folder options val=${val} and test=${test} leave no training images: keep val + test < 1`);
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`image folder ${dir} does not exist or is not a directory: create it and ${LAYOUT_HELP}`);
  }

  const key = JSON.stringify([val, test, minSize]);
  const given = prepared as Prepared | undefined;
  const p = given?.dir === dir && given.key === key ? given : await scanFolder(dir, dirArg, key, val, test, minSize);
  const { classDirs, labelled, items } = p;
  // A copy: skips found later by this copy must not alter the shared list.
  const skipped = { count: p.skipped.count, examples: [...p.skipped.examples] };
  const skip = (path: string, why: string): void => {
    skipped.count++;
    if (skipped.examples.length < MAX_EXAMPLES) skipped.examples.push(`${path} (${why})`);
  };

  const memory = new Map<string, Uint8Array>();
  let memoryBytes = 0;
  if (cacheDir) mkdirSync(cacheDir, { recursive: true });
  const diskPath = (e: Entry): string =>
    join(cacheDir!, createHash("sha1").update(`${e.path}\0${e.mtimeMs}\0${e.bytes}\0${imageSize}`).digest("hex") + ".rgb");

  const load = async (e: Entry): Promise<Uint8Array> => {
    const hit = memory.get(e.path);
    if (hit) return hit;
    let px: Uint8Array | undefined;
    const cached = cacheDir ? diskPath(e) : undefined;
    if (cached && existsSync(cached)) {
      const b = readFileSync(cached);
      if (b.length === imageSize * imageSize * 3) px = new Uint8Array(b.buffer, b.byteOffset, b.length);
    }
    if (!px) {
      px = await decodeImage(e.path, imageSize);
      if (cached) {
        // Atomic write: several worker threads may cache the same file at once.
        const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(tmp, px);
        renameSync(tmp, cached);
      }
    }
    if (memoryBytes + px.length <= MEMORY_BUDGET_BYTES) {
      memory.set(e.path, px);
      memoryBytes += px.length;
    }
    return px;
  };
  const failed = new Set<string>();

  return {
    openOptions: { imageSize, cacheDir, prepared: p },
    spec,
    name: "folder",
    numClasses: labelled ? classDirs.length : 0,
    classNames: labelled ? classDirs : [],
    imageSize,
    skipped,
    size: (split) => {
      checkSplit(split);
      return items[split].length;
    },
    async get(split, index): Promise<Sample> {
      checkSplit(split);
      const list = items[split];
      checkIndex(split, index, list.length);
      // A file that fails to decode is replaced by the next readable one (deterministically).
      for (let k = 0; k < list.length; k++) {
        const e = list[(index + k) % list.length];
        if (failed.has(e.path)) continue;
        try {
          const pixels = await load(e);
          return { pixels, width: imageSize, height: imageSize, label: e.label };
        } catch (err) {
          failed.add(e.path);
          skip(e.path, (err as Error).message.split("\n")[0]);
        }
      }
      throw new Error(`no image of split "${split}" in ${dir} can be decoded (e.g. ${skipped.examples[0] ?? "-"}): ${LAYOUT_HELP}`);
    },
    // The file's class; a file found unreadable later is replaced in `get` by its neighbour,
    // whose class may differ (rare: a broken file).
    label(split, index): number {
      checkSplit(split);
      checkIndex(split, index, items[split].length);
      return items[split][index].label;
    },
    async close() {
      memory.clear();
      memoryBytes = 0;
    },
  };
}
