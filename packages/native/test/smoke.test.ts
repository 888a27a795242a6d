import { expect, it } from "vitest";
import { info, isAvailable, loadError } from "../src/index.js";

it("reports availability and, when loaded, its build info", () => {
  if (!isAvailable()) {
    expect(loadError()).toMatch(/addon|DILEMMA_NATIVE/);
    return;
  }
  expect(loadError()).toBeNull();
  const i = info();
  expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(["openblas", "openblas-static", "accelerate", "builtin"]).toContain(i.blas);
  expect(i.threads).toBeGreaterThanOrEqual(1);
  expect(typeof i.cuda.compiled).toBe("boolean");
  expect(i.cuda.devices).toBeGreaterThanOrEqual(0);
  if (i.cuda.compiled) expect(i.cuda.archs).toMatch(/80/);
});

it("runs the suites (core's included) on the native backend when the addon loads", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  if (!isAvailable()) return;
  expect(process.env.DILEMMA_TEST_BACKEND).toBe("native");
  expect(tf.getBackend()).toBe("native"); // set by core's test/setup.ts from the env above
});

it("reports whether cuBLAS can be loaded at run time, and why not", async () => {
  if (!isAvailable()) return;
  const { cublas } = info().cuda;
  if (cublas.available) {
    expect(cublas.library).toMatch(/cublas/);
    expect(cublas.error).toBeNull();
  } else {
    // e.g. this CPU machine: nvcc but no libcublas. The message names what was tried and the fix.
    expect(cublas.error).toMatch(/libcublas\.so\.13/);
    expect(cublas.error).toMatch(/DILEMMA_CUBLAS/);
  }
  // An explicit wrong path is reported as such (a child process: the load result is cached).
  const { execFileSync } = await import("node:child_process");
  const out = execFileSync(process.execPath, ["--input-type=module", "-e",
    "import('@dilemma/native').then((m) => console.log(JSON.stringify(m.info().cuda.cublas)))"],
  { encoding: "utf8", env: { ...process.env, DILEMMA_CUBLAS: "/nonexistent/libcublas-test.so" } });
  const child = JSON.parse(out.trim().split("\n").pop()!);
  if (!child.available) expect(child.error).toMatch(/\/nonexistent\/libcublas-test\.so/);
});

it("looks for cuBLAS in the toolkit's lib64 (CUDA_HOME) when it is not on the loader path", async () => {
  if (!isAvailable()) return;
  const { execFileSync } = await import("node:child_process");
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const home = mkdtempSync(join(tmpdir(), "fake-cuda-"));
  try {
    mkdirSync(join(home, "lib64"));
    writeFileSync(join(home, "lib64", "libcublas.so.13"), "not a library");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e",
      "import('@dilemma/native').then((m) => console.log(JSON.stringify(m.info().cuda.cublas)))"],
    { encoding: "utf8", env: { ...process.env, DILEMMA_CUBLAS: "", CUDA_HOME: home } });
    const child = JSON.parse(out.trim().split("\n").pop()!);
    if (child.available) return; // a real cuBLAS on the loader path wins
    // tried, and its load error (not "not found") is the one reported
    expect(child.library).toContain(join(home, "lib64", "libcublas.so.13"));
    expect(child.error).toContain(`${join(home, "lib64", "libcublas.so.13")}: `);
    expect(child.error).not.toMatch(/No such file/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
