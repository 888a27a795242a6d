import { expect, it } from "vitest";
import { info, isAvailable, loadError } from "../src/index.js";

const loaded = isAvailable();

it.skipIf(loaded)("says why the addon is unavailable (skipped where it loads)", () => {
  expect(loadError()).toMatch(/addon|DILEMMA_NATIVE/);
});

it.skipIf(!loaded)("reports its build info when loaded (skipped without the addon)", () => {
  expect(loadError()).toBeNull();
  const i = info();
  expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(["openblas", "openblas-static", "accelerate", "builtin"]).toContain(i.blas);
  expect(i.threads).toBeGreaterThanOrEqual(1);
  expect(i.blasThreads).toBe(1);
  expect(typeof i.cuda.compiled).toBe("boolean");
  expect(i.cuda.devices).toBeGreaterThanOrEqual(0);
  if (i.cuda.compiled) expect(i.cuda.archs).toMatch(/80/);
});

it.skipIf(!loaded)("runs the suites (core's included) on the native backend (skipped without the addon)", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  expect(process.env.DILEMMA_TEST_BACKEND).toBe("native");
  expect(tf.getBackend()).toBe("native"); // set by core's test/setup.ts from the env above
});

it.skipIf(!loaded)("reports whether cuBLAS can be loaded at run time, and why not (skipped without the addon)", async () => {
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

// Where a real cuBLAS is on the loader path it wins over CUDA_HOME, so there is nothing to test.
const cublasOnPath = loaded && info().cuda.cublas.available && !process.env.DILEMMA_CUBLAS;
it.skipIf(!loaded || cublasOnPath)("looks for cuBLAS in the toolkit's lib64 (CUDA_HOME) when it is not on the loader path (skipped without the addon or with cuBLAS on the path)", async () => {
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
    expect(child.available, "a fake libcublas must not load").toBe(false);
    // tried, and its load error (not "not found") is the one reported
    expect(child.library).toContain(join(home, "lib64", "libcublas.so.13"));
    expect(child.error).toContain(`${join(home, "lib64", "libcublas.so.13")}: `);
    expect(child.error).not.toMatch(/No such file/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
