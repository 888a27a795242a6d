#!/usr/bin/env node
/* global process, console */
// Builds the @dilemma/native addon with cmake-js at install time. Never fails `npm install`:
// on any error it prints one warning (why, and that the pure-JS engine will be used) and exits 0.
//   DILEMMA_NATIVE=off   skip building (and loading) the addon
//   DILEMMA_CUDA=auto|on|off   compile the CUDA kernels when nvcc is found / require / skip
//   --force   (npm run build:addon) rebuild and exit 1 on failure, for developers and CI
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const force = process.argv.includes("--force");
const warn = (msg) => console.warn(`@dilemma/native: ${msg}`);

if ((process.env.DILEMMA_NATIVE ?? "").toLowerCase() === "off") {
  warn("DILEMMA_NATIVE=off, not building the addon; the pure-JS engine (tfjs cpu) will be used.");
  process.exit(0);
}

// DILEMMA_BUILD_DIR builds elsewhere (parallel development builds; load it with DILEMMA_ADDON).
const buildDir = process.env.DILEMMA_BUILD_DIR ? resolve(process.env.DILEMMA_BUILD_DIR) : join(root, "build");
// Why the last install-time build failed: the runtime (src/addon.ts) quotes it, because npm
// hides the output of dependencies' install scripts.
const failureFile = join(buildDir, "install-error.txt");
rmSync(failureFile, { force: true });

function fail(why) {
  if (force) {
    console.error(`@dilemma/native: addon build failed: ${why}`);
    process.exit(1);
  }
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(failureFile, `${why}\n`);
  } catch { /* the warning below still says it */ }
  warn(`could not build the native addon (${why}). The pure-JS engine (tfjs cpu) will be used; ` +
    `\`node ${join(root, "scripts", "install.mjs")} --force\` builds it and shows the full log.`);
  process.exit(0);
}

let cmakeJs;
try {
  cmakeJs = createRequire(join(root, "package.json")).resolve("cmake-js/bin/cmake-js");
} catch {
  fail("cmake-js is not installed");
}
const probe = spawnSync("cmake", ["--version"], { encoding: "utf8" });
if (probe.error || probe.status !== 0) fail("cmake was not found on PATH (install cmake >= 3.18)");

// "compile" configures only when needed; --force rebuilds from scratch.
const args = [cmakeJs, force ? "rebuild" : "compile", "--directory", root, "--out", buildDir];
if (process.env.DILEMMA_BUILD_JOBS) args.push("--parallel", process.env.DILEMMA_BUILD_JOBS);
const quiet = !force && !process.env.DILEMMA_BUILD_VERBOSE;
const res = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
  encoding: "utf8",
  env: process.env,
});
if (res.error || res.status !== 0) {
  const log = `${res.stdout ?? ""}\n${res.stderr ?? ""}`;
  const errLine = log.split("\n").find((l) => /error/i.test(l) && !/OMG/.test(l)) ?? `exit code ${res.status}`;
  fail(errLine.trim().slice(0, 300));
}
const out = join(buildDir, "Release", "dilemma_native.node");
if (!existsSync(out)) fail(`the build finished but ${out} is missing`);
console.log(`@dilemma/native: built ${out}`);
