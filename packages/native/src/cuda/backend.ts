/**
 * The `cuda` tfjs backend (docs/cuda-engine.md): every tensor is a buffer of the addon's device
 * runtime (`addon().gpu`), on a CUDA device or, for machines without one, on the host where the
 * same kernels run as CPU references. Kernels (./kernels) take buffer ids and launch addon calls;
 * nothing is read back to JS unless asked (dataSync / data / a fallback kernel).
 */
import * as tf from "@tensorflow/tfjs-core";
import { DTYPE, WHERE, type DTypeCode, type GpuAddon, type Where } from "./addon.js";

export type CudaDevice = "cuda" | "host";

export interface CudaBackendOptions {
  device: CudaDevice;
  /** CUDA device ordinal (ignored on host). */
  deviceIndex?: number;
}

/** Values handed to / returned by the storage for the dtypes this backend holds. */
export type HostValues = Float32Array | Int32Array | Uint8Array;

/** Per dataId: one addon buffer (id 0 for empty tensors) and, for small tensors, its values. */
export interface CudaData {
  buf: number;
  dtype: "float32" | "int32" | "bool";
  size: number;
  refCount: number;
  /** Host copy (kept for tensors up to HOST_CACHE_MAX elements; valid forever: tensors are immutable). */
  host?: HostValues;
  /** The buffer is a cached scalar shared with other tensors (freed only by dispose()). */
  shared?: boolean;
}

/**
 * Bytes of freed buffers the backend keeps for reuse (see CudaBackend.allocBuffer). A training
 * step allocates and frees the same sizes every step: reusing them spares two addon calls per
 * tensor (alloc, free were 2 of every 3 addon calls of a vits16 step).
 */
export const SPARE_MAX_BYTES = 2 ** 30;

/**
 * Distinct scalar values whose uploaded buffer is shared by every tensor written with that value
 * and dtype (tensors are immutable and kernels only write fresh outputs). tfjs makes a scalar
 * tensor for each number operand (x * 0.5): ~200 uploads per vits16 step, mostly the same values.
 */
export const SCALAR_CACHE_MAX = 4096;

/**
 * Largest tensor whose host values are kept: DILEMMA indices, scalars and losses are read back
 * with dataSync, which must not cost a device sync; larger host copies would only waste memory.
 */
export const HOST_CACHE_MAX = 65536;

let nextDataId = 0;

export function dtypeCode(dtype: tf.DataType): DTypeCode {
  switch (dtype) {
    case "float32": return DTYPE.float32;
    case "int32": return DTYPE.int32;
    case "bool": return DTYPE.bool;
    default: throw new Error(`cuda backend: dtype ${dtype} is not supported (float32, int32 and bool only)`);
  }
}

function checkDtype(dtype: tf.DataType): asserts dtype is CudaData["dtype"] {
  dtypeCode(dtype);
}

function sizeOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The 4-byte element array uploaded for `values` (bool stored as int32 0/1). */
function toDeviceArray(values: tf.BackendValues, dtype: CudaData["dtype"]): Float32Array | Int32Array {
  if (dtype === "float32") return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === "int32" && values instanceof Int32Array) return values;
  const v = values as ArrayLike<number>;
  const out = new Int32Array(v.length);
  if (dtype === "bool") for (let i = 0; i < v.length; i++) out[i] = v[i] ? 1 : 0;
  else for (let i = 0; i < v.length; i++) out[i] = v[i];
  return out;
}

/** The array tfjs expects back for `dtype` (as a new array or `values` itself). */
function toHostArray(values: tf.BackendValues, dtype: CudaData["dtype"]): HostValues {
  if (dtype === "float32") return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === "int32") return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  if (values instanceof Uint8Array) return values;
  const v = values as ArrayLike<number>;
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] ? 1 : 0;
  return out;
}

export class CudaBackend extends tf.KernelBackend {
  readonly gpu: GpuAddon;
  readonly device: CudaDevice;
  readonly where: Where;
  readonly deviceIndex: number;
  private readonly data: tf.DataStorage<CudaData>;
  /** Every live entry, so dispose() can free what tfjs still holds. */
  private readonly live = new Set<CudaData>();
  /** Freed buffers by element count, reused by the next tensor of that size (stream order makes this safe). */
  private readonly spare = new Map<number, number[]>();
  private spareBytes = 0;
  private spareCount = 0;
  /** dtype:bits -> uploaded scalar buffer (SCALAR_CACHE_MAX entries at most). */
  private readonly scalars = new Map<string, number>();
  private disposed = false;

  constructor(gpu: GpuAddon, opts: CudaBackendOptions) {
    super();
    this.gpu = gpu;
    this.device = opts.device;
    this.where = opts.device === "cuda" ? WHERE.cuda : WHERE.host;
    this.deviceIndex = opts.deviceIndex ?? 0;
    if (opts.device === "cuda") gpu.init(this.deviceIndex);
    this.data = new tf.DataStorage(this, tf.engine());
  }

  // ---- storage ----

  private allocBuffer(size: number): number {
    if (size === 0) return 0;
    const reuse = this.spare.get(size)?.pop();
    if (reuse !== undefined) {
      this.spareBytes -= size * 4;
      this.spareCount--;
      return reuse;
    }
    try {
      return this.gpu.alloc(this.where, size * 4);
    } catch (err) {
      // Out of memory with spares held: give them back and try once more.
      if (this.spareCount === 0) throw err;
      this.releaseSpareBuffers();
      return this.gpu.alloc(this.where, size * 4);
    }
  }

  /** Keeps a freed buffer for reuse while under SPARE_MAX_BYTES, else frees it. */
  private releaseBuffer(buf: number, size: number): void {
    if (buf === 0 || this.disposed) return;
    if (this.spareBytes + size * 4 > SPARE_MAX_BYTES) {
      this.gpu.free(buf);
      return;
    }
    let list = this.spare.get(size);
    if (list === undefined) this.spare.set(size, (list = []));
    list.push(buf);
    this.spareBytes += size * 4;
    this.spareCount++;
  }

  /** Frees the buffers kept for reuse (before handing device memory to another library, or on OOM). */
  releaseSpareBuffers(): void {
    for (const list of this.spare.values()) for (const buf of list) this.gpu.free(buf);
    this.spare.clear();
    this.spareBytes = 0;
    this.spareCount = 0;
  }

  /** Buffers the backend holds itself: spares kept for reuse and cached scalars (live to the runtime). */
  heldBufferCount(): number {
    return this.spareCount + this.scalars.size;
  }

  private store(dataId: tf.DataId, entry: CudaData): void {
    this.data.set(dataId, entry);
    this.live.add(entry);
  }

  private upload(values: tf.BackendValues, dtype: tf.DataType, size: number, refCount: number): CudaData {
    checkDtype(dtype);
    if ((values as ArrayLike<number>).length !== size) {
      throw new Error(`cuda backend: ${(values as ArrayLike<number>).length} values for a tensor of ${size} elements`);
    }
    const device = size > 0 ? toDeviceArray(values, dtype) : null;
    if (size === 1) {
      const key = `${dtype}:${new Int32Array(device!.buffer, device!.byteOffset, 1)[0]}`;
      let buf = this.scalars.get(key);
      if (buf === undefined && this.scalars.size < SCALAR_CACHE_MAX) {
        buf = this.allocBuffer(1);
        this.gpu.upload(buf, device!);
        this.scalars.set(key, buf);
      }
      if (buf !== undefined) return { buf, dtype, size, refCount, shared: true, host: toHostArray(values, dtype) };
    }
    const buf = this.allocBuffer(size);
    if (device !== null) this.gpu.upload(buf, device);
    const entry: CudaData = { buf, dtype, size, refCount };
    if (size <= HOST_CACHE_MAX) entry.host = toHostArray(values, dtype);
    return entry;
  }

  override write(values: tf.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    const dataId = { id: nextDataId++ };
    this.store(dataId, this.upload(values, dtype, sizeOf(shape), 1));
    return dataId;
  }

  override move(dataId: tf.DataId, values: tf.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.store(dataId, this.upload(values, dtype, sizeOf(shape), refCount));
  }

  /** A new tensor of `shape` whose buffer (contents undefined) a kernel will overwrite. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo {
    checkDtype(dtype);
    const size = sizeOf(shape);
    const dataId = { id: nextDataId++ };
    this.store(dataId, { buf: this.allocBuffer(size), dtype, size, refCount: 1 });
    return { dataId, shape, dtype };
  }

  /** A new tensor holding `values` (uploaded now). */
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.BackendValues): tf.TensorInfo {
    return { dataId: this.write(values, shape, dtype), shape, dtype };
  }

  /** A tensor sharing `t`'s buffer under another shape/dtype view (Reshape, Identity). */
  makeView(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    this.incRef(t.dataId);
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }

  /** The storage entry of `t` (moving it here first if it lives on another backend). */
  entry(t: tf.TensorInfo | tf.DataId): CudaData {
    const dataId = "dataId" in (t as tf.TensorInfo) ? (t as tf.TensorInfo).dataId : (t as tf.DataId);
    const e = this.data.get(dataId);
    if (e === undefined) throw new Error("cuda backend: tensor data not found (disposed?)");
    return e;
  }

  /** The addon buffer id of `t` (0 for an empty tensor). */
  bufferOf(t: tf.TensorInfo): number {
    return this.entry(t).buf;
  }

  override readSync(dataId: tf.DataId): tf.BackendValues {
    const e = this.entry(dataId);
    if (e.host !== undefined) return e.host;
    let values: HostValues;
    if (e.size === 0) values = e.dtype === "float32" ? new Float32Array(0) : e.dtype === "int32" ? new Int32Array(0) : new Uint8Array(0);
    else if (e.dtype === "float32") {
      values = new Float32Array(e.size);
      this.gpu.download(e.buf, values);
    } else {
      const raw = new Int32Array(e.size);
      this.gpu.download(e.buf, raw);
      values = e.dtype === "int32" ? raw : Uint8Array.from(raw, (x) => (x ? 1 : 0));
    }
    // The download synchronized the stream, so this costs one 8-byte copy: it surfaces a bad
    // DILEMMA index a CUDA kernel skipped (core validates indices before launching; backstop).
    if (e.size > 0) this.gpu.dilemmaCheck();
    // Tensors are immutable, so a host copy never goes stale.
    if (e.size <= HOST_CACHE_MAX) e.host = values;
    return values;
  }

  override read(dataId: tf.DataId): Promise<tf.BackendValues> {
    try {
      return Promise.resolve(this.readSync(dataId));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  override refCount(dataId: tf.DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: tf.DataId): void {
    this.data.get(dataId).refCount++;
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const e = this.data.get(dataId);
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    this.data.delete(dataId);
    this.live.delete(e);
    if (!e.shared) this.releaseBuffer(e.buf, e.size);
    e.buf = 0;
    return true;
  }

  /** Frees a kernel's temporary. */
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void {
    this.disposeData(t.dataId);
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override memory(): { unreliable: boolean; reasons?: string[]; numBytesInGPU: number; numBytesInGPUAllocated: number; numBytesInGPUFree: number; peakBytesInGPU: number; liveBuffers: number } {
    const m = this.gpu.memory();
    // Spares and cached scalars are live to the runtime but held by the backend, not by
    // tensors: reported as free here.
    const held = this.spareBytes + 4 * this.scalars.size;
    return {
      unreliable: false,
      numBytesInGPU: m.allocatedBytes - held,
      numBytesInGPUAllocated: m.reservedBytes,
      numBytesInGPUFree: m.reservedBytes - m.allocatedBytes + held,
      peakBytesInGPU: m.peakAllocatedBytes,
      liveBuffers: m.liveBuffers - this.heldBufferCount(),
    };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    if (this.where === WHERE.cuda) {
      const start = this.gpu.eventRecord();
      try {
        f();
        const end = this.gpu.eventRecord();
        try {
          return { kernelMs: this.gpu.eventElapsedMs(start, end) };
        } finally {
          this.gpu.eventFree(end);
        }
      } finally {
        this.gpu.eventFree(start);
      }
    }
    const t0 = tf.util.now();
    f();
    return { kernelMs: tf.util.now() - t0 };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    if (this.disposed) return;
    this.releaseSpareBuffers();
    for (const e of this.live) if (e.buf !== 0 && !e.shared) this.gpu.free(e.buf);
    for (const buf of this.scalars.values()) this.gpu.free(buf);
    this.scalars.clear();
    this.live.clear();
    this.disposed = true;
  }
}
