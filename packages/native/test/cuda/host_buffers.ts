// Host-device buffers for the kernel tests: upload, allocate and read back through addon().gpu,
// remembering every id so a test's afterEach frees them all.
import { WHERE, type GpuAddon } from "../../src/cuda/addon.js";

export interface HostBuffers {
  /** A buffer holding `data` (at least 4 bytes, so empty inputs still get a valid id). */
  put(data: Float32Array | Int32Array): number;
  /** An uninitialised buffer of n 4-byte elements (at least one). */
  alloc(n: number): number;
  getF(id: number, n: number): Float32Array;
  getI(id: number, n: number): Int32Array;
  freeAll(): void;
}

/** `gpu` is called lazily: suites that skip without the addon never touch it. */
export function hostBuffers(gpu: () => GpuAddon): HostBuffers {
  const live: number[] = [];
  const alloc = (bytes: number) => {
    const id = gpu().alloc(WHERE.host, Math.max(4, bytes));
    live.push(id);
    return id;
  };
  return {
    put(data) {
      const id = alloc(data.byteLength);
      if (data.length > 0) gpu().upload(id, data);
      return id;
    },
    alloc: (n) => alloc(4 * n),
    getF(id, n) {
      const out = new Float32Array(n);
      if (n > 0) gpu().download(id, out);
      return out;
    },
    getI(id, n) {
      const out = new Int32Array(n);
      if (n > 0) gpu().download(id, out);
      return out;
    },
    freeAll() {
      for (const id of live.splice(0)) gpu().free(id);
    },
  };
}
