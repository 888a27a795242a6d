// The command the cli prints when the addon is missing (src/build-fix.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildCommand, installFailure, missingToolsCommand } from "../src/build-fix.js";

describe("build command", () => {
  it("runs install.mjs --force of that package, quoting a path with spaces", () => {
    expect(buildCommand("/opt/app/node_modules/@dilemma/native")).toMatch(/(^|&& )node \/opt\/app\/node_modules\/@dilemma\/native\/scripts\/install\.mjs --force$/);
    expect(buildCommand("/home/a b/native")).toMatch(/node '\/home\/a b\/native\/scripts\/install\.mjs' --force$/);
  });

  it("installs cmake and a compiler first when they are not on PATH", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dilemma-nopath-"));
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      const tools = missingToolsCommand();
      if (fs.existsSync("/etc/debian_version")) expect(tools).toMatch(/^(sudo )?apt-get install -y cmake g\+\+$/);
      else expect(tools).toMatch(/cmake/);
      expect(buildCommand("/x")).toMatch(/cmake.* (&& |then )node \/x\/scripts\/install\.mjs --force$/);
    } finally {
      process.env.PATH = saved;
    }
    // Here (CI and developers) both are installed.
    expect(missingToolsCommand()).toBe("");
  });

  it("reads why the install-time build failed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dilemma-build-"));
    expect(installFailure(dir)).toBeNull();
    fs.writeFileSync(path.join(dir, "install-error.txt"), "cmake was not found on PATH\n");
    expect(installFailure(dir)).toBe("cmake was not found on PATH");
  });
});
