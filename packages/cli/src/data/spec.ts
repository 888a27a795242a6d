/** The dataset kinds a spec can name. */
export type DataKind = "scenes" | "shapes" | "mnist" | "cifar10" | "cifar100" | "folder";

/** A parsed data spec. */
export interface DataSpec {
  kind: DataKind;
  /** Directory for `cifar10`, `cifar100` and `folder`. */
  path?: string;
  options: Record<string, string>;
}

const KINDS: readonly DataKind[] = ["scenes", "shapes", "mnist", "cifar10", "cifar100", "folder"];
const PATH_KINDS: ReadonlySet<DataKind> = new Set(["cifar10", "cifar100", "folder"]);

/**
 * Parses a data spec.
 *
 * - `scenes`, `shapes`, `shapes:n=20000,val=2000`, `mnist`, `mnist:val=0.1` — options as `key=value`
 *   separated by `,` or `&`.
 * - `cifar10:<dir>`, `cifar100:<dir>`, `folder:<dir>` — a directory, optionally followed by
 *   `?key=value,...` (e.g. `folder:./photos?minSize=32,val=0.1`).
 *
 * @throws Error naming the spec and the accepted forms when it cannot be parsed.
 */
export function parseDataSpec(spec: string): DataSpec {
  const s = spec.trim();
  const colon = s.indexOf(":");
  const head = (colon < 0 ? s : s.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? "" : s.slice(colon + 1);
  if (!(KINDS as readonly string[]).includes(head)) {
    throw new Error(
      `unknown data spec "${spec}": use one of scenes[:n=20000], shapes[:n=20000], mnist, cifar10:<dir>, cifar100:<dir>, folder:<dir>`,
    );
  }
  const kind = head as DataKind;
  if (!PATH_KINDS.has(kind)) return { kind, options: parseOptions(rest, spec) };
  const q = rest.lastIndexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  if (path.trim() === "") {
    throw new Error(`data spec "${spec}" needs a directory: write ${kind}:<dir>, e.g. ${kind}:./data/${kind}`);
  }
  return { kind, path, options: parseOptions(q < 0 ? "" : rest.slice(q + 1), spec) };
}

function parseOptions(text: string, spec: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const part of text.split(/[,&]/)) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`bad option "${part}" in data spec "${spec}": write key=value`);
    options[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return options;
}

/** Reads a numeric option, checking it is finite and within [min, max]. */
export function numOption(
  options: Record<string, string>,
  key: string,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  const raw = options[key];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(
      `data option ${key}=${raw} is invalid: expected ${integer ? "an integer" : "a number"} in [${min}, ${max}]`,
    );
  }
  return v;
}

/** Rejects options the dataset does not know, naming the accepted ones. */
export function checkOptions(kind: string, options: Record<string, string>, known: string[]): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) {
      throw new Error(`unknown option "${k}" for ${kind} data: accepted options are ${known.join(", ") || "none"}`);
    }
  }
}
