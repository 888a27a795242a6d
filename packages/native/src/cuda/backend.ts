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
}

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
    return size === 0 ? 0 : this.gpu.alloc(this.where, size * 4);
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
    const buf = this.allocBuffer(size);
    if (size > 0) this.gpu.upload(buf, toDeviceArray(values, dtype));
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
    if (e.buf !== 0 && !this.disposed) this.gpu.free(e.buf);
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
    return {
      unreliable: false,
      numBytesInGPU: m.allocatedBytes,
      numBytesInGPUAllocated: m.reservedBytes,
      numBytesInGPUFree: m.reservedBytes - m.allocatedBytes,
      peakBytesInGPU: m.peakAllocatedBytes,
      liveBuffers: m.liveBuffers,
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
    for (const e of this.live) if (e.buf !== 0) this.gpu.free(e.buf);
    this.live.clear();
    this.disposed = true;
  }
}
