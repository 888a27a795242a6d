// Reuse of the native backend's large kernel outputs. tfjs drops a disposed tensor's typed array
// and V8 frees it only at a GC, which the external memory of ~100 MB of fresh outputs per
// training step triggers over and over (~15 full GCs per tiny32 step). NativeBackend instead
// hands an output array back here once no tensor refers to its buffer any more, and the next
// output of that length takes it.
//
// Safe because: only buffers allocated here are pooled; every stored reference is counted per
// ArrayBuffer (views sharing a buffer, e.g. a cpu kernel's subarray slice, count too); and a
// buffer whose values were ever handed out by readSync/read (dataSync, data, bufferSync) is never
// reused, since the caller may keep that array.

/** Outputs below this many elements are not pooled (V8 zero-fills them cheaply on its heap). */
export const POOL_MIN_ELEMENTS = 16384;
/** Bytes of free arrays kept at most: env DILEMMA_OUTPUT_POOL_MB (default 1024; 0 turns reuse off). */
export const POOL_MAX_BYTES = (() => {
  const mb = Number(process.env.DILEMMA_OUTPUT_POOL_MB ?? "1024");
  return Number.isFinite(mb) && mb >= 0 ? mb * 2 ** 20 : 2 ** 30;
})();

const ours = new WeakSet<ArrayBufferLike>();
const escaped = new WeakSet<ArrayBufferLike>();
const refs = new Map<ArrayBufferLike, number>();
const free = new Map<number, Float32Array[]>();
let freeBytes = 0;

type Values = unknown;
const bufferOf = (values: Values): ArrayBufferLike | null =>
  ArrayBuffer.isView(values) && ours.has(values.buffer) ? values.buffer : null;

/** A float32 output of n elements with undefined contents: a pooled array when one is free. */
export function pooledOutput(n: number): Float32Array {
  const reused = free.get(n)?.pop();
  if (reused !== undefined) {
    freeBytes -= n * 4;
    return reused;
  }
  // allocUnsafeSlow: malloc (not calloc), its own ArrayBuffer of exactly n * 4 bytes.
  const a = new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
  ours.add(a.buffer);
  return a;
}

/** A tensor now refers to `values` (NativeBackend.write / move). */
export function retainValues(values: Values): void {
  const b = bufferOf(values);
  if (b !== null) refs.set(b, (refs.get(b) ?? 0) + 1);
}

/** A tensor referring to `values` was deleted: the last one returns the buffer to the pool. */
export function releaseValues(values: Values): void {
  const b = bufferOf(values);
  if (b === null) return;
  const left = (refs.get(b) ?? 0) - 1;
  if (left > 0) {
    refs.set(b, left);
    return;
  }
  refs.delete(b);
  if (escaped.has(b) || freeBytes + b.byteLength > POOL_MAX_BYTES) return;
  const n = b.byteLength / 4;
  let list = free.get(n);
  if (list === undefined) free.set(n, (list = []));
  list.push(new Float32Array(b, 0, n));
  freeBytes += b.byteLength;
}

/** `values` leave the backend (readSync): their buffer is never reused. */
export function escapeValues(values: Values): void {
  const b = bufferOf(values);
  if (b !== null) escaped.add(b);
}

/** Pool counters (for tests). */
export function poolStats(): { freeArrays: number; freeBytes: number; tracked: number } {
  let freeArrays = 0;
  for (const l of free.values()) freeArrays += l.length;
  return { freeArrays, freeBytes, tracked: refs.size };
}

/** Drops every free array (they are freed at the next GC). */
export function clearPool(): void {
  free.clear();
  freeBytes = 0;
}
