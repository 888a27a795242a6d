/**
 * The one command that builds the addon on this machine, for messages when it is missing:
 * install.mjs run in place (works the same in this repository and in any project's
 * node_modules, whatever npm's install-script policy), preceded by installing cmake / a C++
 * compiler when they are not on PATH.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const has = (cmd: string): boolean => {
  const r = spawnSync(cmd, ["--version"], { stdio: "ignore" });
  return !r.error && r.status === 0;
};

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** Installs what the build lacks (cmake, a C++ compiler), or "" when both are there. */
export function missingToolsCommand(): string {
  const missing: string[] = [];
  if (!has("cmake")) missing.push("cmake");
  if (!["c++", "g++", "clang++"].some(has)) missing.push("compiler");
  if (!missing.length) return "";
  if (process.platform === "darwin") return missing.includes("compiler") ? "xcode-select --install && brew install cmake" : "brew install cmake";
  if (existsSync("/etc/debian_version")) {
    const sudo = process.getuid?.() === 0 ? "" : "sudo ";
    const pkgs = [...(missing.includes("cmake") ? ["cmake"] : []), ...(missing.includes("compiler") ? ["g++"] : [])];
    return `${sudo}apt-get install -y ${pkgs.join(" ")}`;
  }
  return `install ${missing.map((m) => (m === "compiler" ? "a C++ compiler" : "cmake >= 3.18")).join(" and ")}, then`;
}

/** The command that (re)builds the addon of the package at `packageRoot`. */
export function buildCommand(packageRoot: string): string {
  const build = `node ${quote(join(packageRoot, "scripts", "install.mjs"))} --force`;
  const tools = missingToolsCommand();
  return tools ? `${tools}${tools.endsWith("then") ? " " : " && "}${build}` : build;
}

/** Why the install-time build failed, as recorded by scripts/install.mjs (null when it did not). */
export function installFailure(buildDir: string): string | null {
  try {
    return readFileSync(join(buildDir, "install-error.txt"), "utf8").trim() || null;
  } catch {
    return null;
  }
}
