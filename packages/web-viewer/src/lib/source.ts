// Where runs and weights come from. Two modes:
// - served by `dilemma-cli view`: GET /api/runs, files under /runs/<id>/ (docs/run-format.md);
// - static: `?weights=<export dir>` (a `dilemma-cli export` folder: config.json, model.json,
//   weights.bin, names without a module prefix) or `?run=<run dir url>` (a run folder on any
//   static host; curves and checkpoints but no run list).

export interface RunStatus {
  state: "running" | "done" | "stopped" | "failed" | string;
  step?: number;
  totalSteps?: number;
  updatedAt?: string;
  message?: string;
}

export interface RunInfo {
  id: string;
  name: string;
  /** Base URL of the run's files, ending in "/". */
  base: string;
  config?: unknown;
  status?: RunStatus;
  /** Exports have weights but no metrics / samples / checkpoints folder. */
  kind: "run" | "export";
}

export interface CheckpointRef {
  label: string;
  step?: number;
  /** Folder holding model.json and weights.bin, ending in "/". */
  dir: string;
  /** Name prefix of the encoder weights: "base_encoder." in runs, "" in exports. */
  prefix: string;
}

export class HttpError extends Error {
  constructor(readonly url: string, readonly status: number, text: string) {
    super(`${url}: ${status} ${text}`.trim());
  }
}

export async function fetchOk(url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new Error(`${url}: ${(e as Error).message || "network error"}`);
  }
  if (!res.ok) throw new HttpError(url, res.status, res.statusText);
  return res;
}

export async function fetchJson<T = unknown>(url: string): Promise<T> {
  const res = await fetchOk(url, { cache: "no-store" });
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${url}: not valid JSON`);
  }
}

/** Absolute-ish folder URL with a trailing slash. */
export function dirUrl(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

export type Mode =
  | { kind: "server" }
  | { kind: "weights"; url: string }
  | { kind: "run"; url: string };

export function modeFromSearch(search: string): Mode {
  const q = new URLSearchParams(search);
  const weights = q.get("weights");
  if (weights) return { kind: "weights", url: dirUrl(weights) };
  const run = q.get("run");
  // `?run=<id>` selects a served run; only a URL-looking value means a static run folder.
  if (run && /^(https?:|\.{0,2}\/)/.test(run)) return { kind: "run", url: dirUrl(run) };
  return { kind: "server" };
}

function runFromApi(r: Record<string, unknown>): RunInfo {
  const id = String(r.id);
  return {
    id,
    name: typeof r.name === "string" && r.name ? r.name : id,
    base: `runs/${encodeURIComponent(id)}/`,
    config: r.config,
    status: (r.status ?? undefined) as RunStatus | undefined,
    kind: "run",
  };
}

/** The runs this page can show. Static modes yield exactly one. */
export async function listRuns(mode: Mode): Promise<RunInfo[]> {
  if (mode.kind === "server") {
    const list = await fetchJson<unknown>("api/runs");
    if (!Array.isArray(list)) throw new Error("api/runs: expected a JSON array");
    return list.map((r) => runFromApi(r as Record<string, unknown>));
  }
  const name = decodeURIComponent(mode.url.replace(/\/$/, "").split("/").pop() || mode.url);
  return [{ id: name, name, base: mode.url, kind: mode.kind === "weights" ? "export" : "run" }];
}

/** Checkpoint folder name for a step, as `train` writes it. */
export function stepDir(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/**
 * The run's checkpoints, newest first: latest.json, plus any listed in checkpoints/index.json
 * (if the writer provides one) and any of `candidateSteps` whose model.json exists.
 */
export async function listCheckpoints(run: RunInfo, candidateSteps: number[] = []): Promise<CheckpointRef[]> {
  if (run.kind === "export") return [{ label: "exported weights", dir: run.base, prefix: "" }];
  const found = new Map<string, CheckpointRef>();
  const add = (step: number | undefined, dir: string, latest = false) => {
    const label = `${step !== undefined ? `step ${step}` : dir}${latest ? " (latest)" : ""}`;
    if (!found.has(dir) || latest) found.set(dir, { label, step, dir: `${run.base}checkpoints/${dir}/`, prefix: "base_encoder." });
  };
  let latestDir: string | undefined;
  try {
    const latest = await fetchJson<{ step?: number; dir?: string }>(`${run.base}checkpoints/latest.json`);
    if (typeof latest.dir === "string") {
      latestDir = latest.dir;
      add(latest.step, latest.dir, true);
    }
  } catch (e) {
    if (!(e instanceof HttpError && e.status === 404)) throw e;
  }
  try {
    const index = await fetchJson<unknown>(`${run.base}checkpoints/index.json`);
    if (Array.isArray(index)) for (const c of index) if (c && typeof c.dir === "string") add(c.step, c.dir);
  } catch {
    // Optional file.
  }
  const probes = [...new Set(candidateSteps)].map(stepDir).filter((d) => !found.has(d)).slice(0, 24);
  const exists = await Promise.all(
    probes.map((d) => fetch(`${run.base}checkpoints/${d}/model.json`, { method: "HEAD" }).then((r) => r.ok, () => false)),
  );
  probes.forEach((d, i) => { if (exists[i]) add(Number(d.slice(5)), d); });
  const list = [...found.values()].sort((a, b) => (b.step ?? -1) - (a.step ?? -1));
  if (latestDir) list.sort((a, b) => Number(b.dir.endsWith(`/${latestDir}/`)) - Number(a.dir.endsWith(`/${latestDir}/`)));
  return list;
}

export interface SampleImage { file: string; label?: number; className?: string; url: string }

/** samples/index.json, or [] when the run has none. */
export async function listSamples(run: RunInfo): Promise<SampleImage[]> {
  if (run.kind === "export") return [];
  try {
    const index = await fetchJson<unknown>(`${run.base}samples/index.json`);
    if (!Array.isArray(index)) return [];
    return index
      .filter((s) => s && typeof s.file === "string")
      .map((s) => ({ file: s.file, label: s.label, className: s.className, url: `${run.base}samples/${s.file}` }));
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) return [];
    throw e;
  }
}

/**
 * Steps that may have a checkpoint folder, for listCheckpoints to probe: multiples of the run's
 * `ckptEvery` (newest `max`), the final step and every eval step. The server lists no folders,
 * and older checkpoints are pruned, so these are guesses that a HEAD request confirms.
 */
export function candidateSteps(config: unknown, totalSteps: number | undefined, evalSteps: readonly number[], max = 12): number[] {
  const c = (config && typeof config === "object" ? config : {}) as { ckptEvery?: unknown; optim?: { steps?: unknown } };
  const total = totalSteps ?? (typeof c.optim?.steps === "number" ? c.optim.steps : undefined);
  const out = new Set<number>(evalSteps);
  if (total !== undefined) out.add(total);
  if (typeof c.ckptEvery === "number" && c.ckptEvery > 0 && total !== undefined) {
    const last = Math.floor(total / c.ckptEvery);
    for (let k = last; k >= 1 && k > last - max; k--) out.add(k * c.ckptEvery);
  }
  return [...out].filter((s) => Number.isInteger(s) && s > 0).sort((a, b) => b - a);
}
