// Engine choice (src/engine.ts) with a fake @dilemma/native: which engine auto picks, the
// reasons it prints, and the errors of an explicit engine or precision that cannot run here.
import { describe, expect, it, vi } from "vitest";
import { parseCommand } from "../src/args.js";
import { benchCommand, trainCommand } from "../src/commands.js";
import { resetEngineAnnouncement, selectEngine, type NativeModule } from "../src/engine.js";

function fakeNative(o: { gpu: boolean; why?: string; cudaApi?: boolean }) {
  const calls: string[] = [];
  const m: NativeModule = {
    isAvailable: () => true,
    loadError: () => null,
    useNativeBackend: async () => { calls.push("native"); },
    info: () => ({ blas: "openblas", threads: 2, cuda: { compiled: o.gpu, devices: o.gpu ? 1 : 0 } }),
    addon: () => ({ gpu: { runtimeInfo: () => ({ device: o.gpu ? { name: "NVIDIA H200" } : null }) } }),
  };
  if (o.cudaApi !== false) {
    m.cudaAvailable = () => o.gpu;
    m.cudaUnavailableReason = () => (o.gpu ? null : o.why ?? "no CUDA device is visible");
    m.useCudaBackend = async (opts) => { calls.push(`cuda:${opts?.device}:${opts?.precision}`); };
  }
  return { m, calls, load: async () => m };
}

describe("engine selection", () => {
  it("auto picks cuda when a GPU is usable, with the requested precision", async () => {
    resetEngineAnnouncement();
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const f = fakeNative({ gpu: true });
    const c = await selectEngine("auto", { loadNative: f.load, precision: "bf16" });
    expect(c).toMatchObject({ name: "cuda", precision: "bf16" });
    expect(c.reason).toMatch(/auto: CUDA device found; NVIDIA H200; matmul bf16/);
    expect(f.calls).toEqual(["cuda:cuda:bf16"]);
    expect(err.mock.calls[0][0]).toMatch(/^engine: cuda \(/);
    err.mockRestore();
  });

  it("auto falls back to native and says why there is no GPU engine", async () => {
    const f = fakeNative({ gpu: false, why: "the addon was built without CUDA (DILEMMA_CUDA=off or no nvcc)" });
    const c = await selectEngine("auto", { loadNative: f.load });
    expect(c.name).toBe("native");
    expect(c.reason).toMatch(/no GPU engine \(the addon was built without CUDA.*\); addon loaded; BLAS openblas/);
    expect(f.calls).toEqual(["native"]);
    // a precision is only a request: ignored (and said so) when auto lands on the CPU
    const c2 = await selectEngine("auto", { loadNative: f.load, precision: "tf32" });
    expect(c2).toMatchObject({ name: "native", precision: "fp32" });
    expect(c2.reason).toMatch(/--precision tf32 ignored/);
  });

  it("auto falls back to native with a @dilemma/native that predates the cuda engine", async () => {
    const f = fakeNative({ gpu: true, cudaApi: false });
    const c = await selectEngine("auto", { loadNative: f.load });
    expect(c.name).toBe("native");
    expect(c.reason).toMatch(/has no cuda engine/);
  });

  it("auto falls back to native when the visible GPU cannot be opened", async () => {
    const f = fakeNative({ gpu: true });
    f.m.useCudaBackend = async () => { throw new Error("the cuda backend is unavailable: init(0): out of memory"); };
    const c = await selectEngine("auto", { loadNative: f.load });
    expect(c.name).toBe("native");
    expect(c.reason).toMatch(/the CUDA device could not be used \(the cuda backend is unavailable: init\(0\): out of memory\); addon loaded/);
  });

  it("auto uses tfjs cpu when the addon does not load", async () => {
    const c = await selectEngine("auto", { loadNative: async () => "the addon is not built" });
    expect(c.name).toBe("cpu");
    expect(c.reason).toMatch(/native engine unavailable: the addon is not built/);
  });

  it("explicit cuda without a usable GPU is an error naming why and what to do", async () => {
    const f = fakeNative({ gpu: false, why: "cuBLAS could not be loaded: libcublas.so.13: cannot open shared object file" });
    await expect(selectEngine("cuda", { loadNative: f.load })).rejects.toThrow(
      /--engine cuda: cuBLAS could not be loaded: libcublas\.so\.13.*; use --engine native \(CPU\) or auto, or make the GPU usable.*DILEMMA_CUBLAS/);
    await expect(selectEngine("cuda", { loadNative: async () => "DILEMMA_NATIVE=off" })).rejects.toThrow(/--engine cuda: DILEMMA_NATIVE=off; use --engine native/);
    expect(f.calls).toEqual([]);
  });

  it("explicit cuda runs on cuda; precision needs cuda", async () => {
    const f = fakeNative({ gpu: true });
    expect(await selectEngine("cuda", { loadNative: f.load })).toMatchObject({ name: "cuda", precision: "fp32" });
    expect(f.calls).toEqual(["cuda:cuda:fp32"]);
    await expect(selectEngine("native", { loadNative: f.load, precision: "bf16" })).rejects.toThrow(/--precision bf16 needs --engine cuda/);
    await expect(selectEngine("cpu", { precision: "tf32" })).rejects.toThrow(/--engine cpu computes in fp32/);
  });

  it("the real @dilemma/native on this machine: cuda either runs or says why not", async () => {
    const { loadNative } = await import("../src/engine.js");
    const native = await loadNative();
    const gpu = typeof native !== "string" && native.cudaAvailable?.() === true;
    if (!gpu) await expect(selectEngine("cuda")).rejects.toThrow(/^--engine cuda: .+; use --engine native/);
  });
});

describe("engine flags", () => {
  it("accepts --engine cuda and --precision, rejects unknown precisions", () => {
    expect(parseCommand(trainCommand, ["--engine", "cuda", "--precision", "bf16"])).toMatchObject({ engine: "cuda", precision: "bf16" });
    expect(parseCommand(benchCommand, ["--preset", "vits16", "--engine", "cuda", "--precision", "tf32"])).toMatchObject({ preset: "vits16", precision: "tf32" });
    expect(() => parseCommand(trainCommand, ["--precision", "fp16"])).toThrow(/--precision: invalid value "fp16"; allowed: fp32, tf32, bf16/);
    expect(() => parseCommand(trainCommand, ["--engine", "gpu"])).toThrow(/allowed: auto, cuda, native, cpu, tensorflow/);
    // the precision is an engine setting, not part of the run's config: allowed when resuming
    expect(parseCommand(trainCommand, ["--resume", "runs/x", "--precision", "bf16"])).toMatchObject({ precision: "bf16" });
  });
});
