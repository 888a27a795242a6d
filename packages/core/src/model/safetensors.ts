// Named tensors <-> safetensors, the weights format of PyTorch / timm / Hugging Face: an 8-byte
// little-endian header length N, N bytes of JSON ({name: {dtype, shape, data_offsets}} plus an
// optional "__metadata__" of strings), then the raw little-endian data. No npm library writes it
// (the Hugging Face JS packages only read headers), and the format is small enough to own here.
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../api.js";

/** Element types read; F16 / BF16 / F64 become float32 and I64 int32 (tfjs has no others). */
const READ: Record<string, { bytes: number; dtype: "float32" | "int32" }> = {
  F32: { bytes: 4, dtype: "float32" }, F16: { bytes: 2, dtype: "float32" }, BF16: { bytes: 2, dtype: "float32" },
  F64: { bytes: 8, dtype: "float32" }, I32: { bytes: 4, dtype: "int32" }, I64: { bytes: 8, dtype: "int32" },
};
const WRITE: Record<string, string> = { float32: "F32", int32: "I32" };
/** Larger headers are refused (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("safetensors: big-endian hosts are not supported");
}

/**
 * Serialises named tensors (float32 / int32, order kept) to safetensors bytes. `metadata`
 * becomes the header's `__metadata__` (string values only, as the format requires).
 */
export function encodeSafetensors(named: NamedTensors, metadata: Record<string, string> = {}): Uint8Array {
  assertLittleEndian();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw new Error(`encodeSafetensors: metadata "${k}" must be a string`);
    header.__metadata__ = metadata;
  }
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(named)) {
    if (name === "__metadata__") throw new Error("encodeSafetensors: \"__metadata__\" is reserved and cannot name a tensor");
    const dtype = WRITE[t.dtype];
    if (!dtype) throw new Error(`encodeSafetensors: "${name}" is ${t.dtype}; only float32 and int32 are written`);
    const values = t.dataSync() as Float32Array | Int32Array;
    parts.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + values.byteLength] };
    offset += values.byteLength;
  }
  // Pad the JSON with spaces so that the data starts 8-byte aligned (as the reference writer does).
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function decodeValues(name: string, dtype: string, bytes: Uint8Array): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / READ[dtype].bytes;
  switch (dtype) {
    // A copy into a fresh, aligned buffer (new Uint8Array(view): Buffer#slice would not copy).
    case "F32": return new Float32Array(new Uint8Array(bytes).buffer);
    case "I32": return new Int32Array(new Uint8Array(bytes).buffer);
    case "F64": return Float32Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
    case "F16": return Float32Array.from({ length: n }, (_, i) => f16ToF32(view.getUint16(2 * i, true)));
    case "BF16": {
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(out.buffer);
    }
    case "I64": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new Error(`decodeSafetensors: "${name}" (I64) holds ${v}, outside int32`);
        out[i] = Number(v);
      }
      return out;
    }
  }
  throw new Error(`decodeSafetensors: unreachable dtype ${dtype}`);
}

/**
 * Reads safetensors bytes into tensors (caller disposes) and the header's metadata. F16, BF16
 * and F64 become float32, I64 int32. Validates the header: sizes, offsets inside the data, no
 * overlaps or holes. `include` skips tensors it rejects without decoding them.
 * @throws Error naming the problem (truncated file, bad header, unsupported dtype, ...).
 */
export function decodeSafetensors(
  input: Uint8Array | ArrayBuffer, include: (name: string) => boolean = () => true,
): { tensors: NamedTensors; metadata: Record<string, string> } {
  assertLittleEndian();
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const bad = (why: string): never => { throw new Error(`decodeSafetensors: not a valid safetensors file: ${why}`); };
  if (bytes.byteLength < 8) bad(`${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.byteLength - 8))) bad(`header length ${n} exceeds the file (${bytes.byteLength} bytes)`);
  const dataStart = 8 + Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    return bad(`the header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) bad("the header is not a JSON object");
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (v === null || typeof v !== "object") bad("__metadata__ is not an object");
      for (const [k, s] of Object.entries(v as object)) {
        if (typeof s !== "string") bad(`__metadata__.${k} is not a string`);
        metadata[k] = s as string;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = e?.shape, off = e?.data_offsets;
    if (typeof e?.dtype !== "string" || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      bad(`"${name}" needs a dtype, a shape of non-negative integers and data_offsets [begin, end]`);
    }
    const [begin, end] = off as number[];
    if (end > dataLen) bad(`"${name}" ends at byte ${end} of the data, which has ${dataLen} (truncated file?)`);
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const elem = READ[e.dtype as string]?.bytes;
    if (elem !== undefined && end - begin !== size * elem) bad(`"${name}" has ${end - begin} bytes, but [${shape}] of ${e.dtype} needs ${size * elem}`);
    entries.push({ name, dtype: e.dtype as string, shape: shape as number[], begin, end });
  }
  // The data must be covered exactly once, in any order.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin !== covered) bad(e.begin < covered ? `"${e.name}" overlaps another tensor` : `bytes ${covered}..${e.begin} of the data belong to no tensor`);
    covered = e.end;
  }
  if (covered !== dataLen) bad(`the last ${dataLen - covered} bytes of the data belong to no tensor`);
  const tensors: NamedTensors = {};
  for (const e of entries) {
    if (!include(e.name)) continue;
    if (!READ[e.dtype]) throw new Error(`decodeSafetensors: "${e.name}" is ${e.dtype}; supported: ${Object.keys(READ).join(", ")}`);
    const values = decodeValues(e.name, e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors[e.name] = tf.tensor(values, e.shape, READ[e.dtype].dtype);
  }
  return { tensors, metadata };
}
