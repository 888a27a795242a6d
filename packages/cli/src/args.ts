// A tiny command-line layer: node:util parseArgs for syntax, zod for meaning, and errors that
// name the flag and what is allowed. `--config file.json` supplies defaults under the flags.
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { isRunConfig, trainFlagsOfRun } from "./repeat-config.js";
import type { RunConfig } from "./run-dir.js";

/** A command-line flag (long form `--kebab-name`; the parsed value is under its camelCase key). */
export interface FlagDef {
  type: "string" | "boolean";
  desc: string;
  /** Shown in --help (the zod schema holds the real default). */
  default?: string;
  short?: string;
}

/** A subcommand: flags, positional arguments and the zod schema validating them. */
export interface CommandDef<T> {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagDef>;
  /** Names of the positional arguments, for --help; `minPositionals`/`maxPositionals` bound them. */
  positionals?: string[];
  minPositionals?: number;
  maxPositionals?: number;
  examples?: string[];
  schema: z.ZodType<T>;
}

/** A usage error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const camel = (kebab: string): string => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const kebab = (camelName: string): string => camelName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A number flag: accepts numbers (config files) and numeric strings (argv). */
export function num(opts: { int?: boolean; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {}) {
  let s = z.number({ error: "expected a number" }).finite();
  if (opts.int) s = s.int({ error: "expected an integer" });
  if (opts.min !== undefined) s = opts.minExclusive ? s.gt(opts.min, { error: `must be > ${opts.min}` }) : s.gte(opts.min, { error: `must be >= ${opts.min}` });
  if (opts.max !== undefined) s = opts.maxExclusive ? s.lt(opts.max, { error: `must be < ${opts.max}` }) : s.lte(opts.max, { error: `must be <= ${opts.max}` });
  return z.preprocess((v) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v), s);
}

/** An enum flag whose error lists the allowed values. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `invalid value ${JSON.stringify(iss.input)}; allowed: ${values.join(", ")}` });
}

/** A boolean flag (argv gives true; config files may give true/false). */
export const bool = () => z.boolean({ error: "expected true or false" });

function formatIssues(err: z.ZodError, cmd: string): string {
  return err.issues.map((iss) => {
    const key = iss.path.length ? String(iss.path[0]) : "";
    const where = key === "positionals" ? "argument" : key ? `--${kebab(key)}` : "options";
    return `dilemma-cli ${cmd}: ${where}: ${iss.message}`;
  }).join("\n");
}

/**
 * Reads --config: a JSON object whose keys are flag names (kebab or camelCase), or (train) a
 * run's config.json, which repeats that run.
 */
function readConfigFile(file: string, def: CommandDef<unknown>): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`dilemma-cli ${def.name}: --config ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (e as Error).message}`);
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
    throw new UsageError(`dilemma-cli ${def.name}: --config ${file}: expected a JSON object of flag values, e.g. {"batch": 32}`);
  }
  if (isRunConfig(obj as Record<string, unknown>)) {
    if (def.name !== "train") {
      throw new UsageError(`dilemma-cli ${def.name}: --config ${file} is a run's config.json; only train repeats a run from it (for ${def.name}, pass the run directory)`);
    }
    return trainFlagsOfRun(obj as RunConfig);
  }
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    const key = camel(k);
    // Own keys only: `in` would accept "__proto__" / "constructor" (inherited from Object) and
    // assigning "__proto__" would then silently set the prototype instead of a flag.
    if (!Object.hasOwn(def.flags, kebab(key)) || key === "config") {
      throw new UsageError(`dilemma-cli ${def.name}: --config ${file}: unknown key "${k}"; allowed: ${Object.keys(def.flags).filter((f) => f !== "config" && f !== "help").join(", ")}`);
    }
    out[key] = v;
  }
  return out;
}

/** Parses and validates `argv` (the arguments after the subcommand). Returns null for --help. */
export function parseCommand<T>(def: CommandDef<T>, argv: string[]): (T & { positionals: string[] }) | null {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, f] of Object.entries(def.flags)) options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  options.help ??= { type: "boolean", short: "h" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional.*$/s, "");
    throw new UsageError(`dilemma-cli ${def.name}: ${msg}\nRun \`dilemma-cli ${def.name} --help\` for the flags.`);
  }
  if (parsed.values.help) return null;
  const { min = 0, max = Infinity } = { min: def.minPositionals, max: def.maxPositionals };
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const want = def.positionals?.length ? def.positionals.join(" ") : "no arguments";
    throw new UsageError(`dilemma-cli ${def.name}: expected ${want}, got ${parsed.positionals.length ? parsed.positionals.map((p) => JSON.stringify(p)).join(" ") : "none"}\nUsage: ${def.usage}`);
  }
  const fromFlags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed.values)) if (k !== "config" && k !== "help") fromFlags[camel(k)] = v;
  const cfgFile = parsed.values.config;
  const fromFile = typeof cfgFile === "string" ? readConfigFile(cfgFile, def as CommandDef<unknown>) : {};
  const result = def.schema.safeParse({ ...fromFile, ...fromFlags, positionals: parsed.positionals });
  if (!result.success) throw new UsageError(formatIssues(result.error, def.name));
  return result.data as T & { positionals: string[] };
}

/** --help text of a command. */
export function helpText(def: CommandDef<unknown>): string {
  const lines = [`${def.summary}`, "", `Usage: ${def.usage}`, "", "Options:"];
  const entries = Object.entries(def.flags);
  const width = Math.max(...entries.map(([n, f]) => n.length + (f.type === "string" ? 8 : 0))) + 4;
  for (const [name, f] of entries) {
    const left = `--${name}${f.type === "string" ? " <value>" : ""}`;
    lines.push(`  ${left.padEnd(width)}${f.desc}${f.default !== undefined ? ` (default: ${f.default})` : ""}`);
  }
  lines.push(`  ${"--help".padEnd(width)}show this help`);
  if (def.examples?.length) lines.push("", "Examples:", ...def.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}
