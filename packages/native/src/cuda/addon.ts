/**
 * The N-API surface of the `cuda` backend's device runtime and kernels (`addon().gpu`,
 * csrc/cuda/**). Contract: docs/cuda-engine.md. Buffers are integer ids (0 = none); every
 * element is 4 bytes (float32, int32, bool stored as int32 0/1); sizes and offsets are in
 * elements unless named `bytes`. All buffers of one call must be on the same device. Kernel
 * calls are asynchronous on the device's stream; `download` and `synchronize` wait for it.
 * Errors (bad ids, mixed devices, CUDA failures) are thrown as JS Errors naming the call.
 */

/** Where a buffer lives: host memory running the CPU reference kernels, or a CUDA device. */
export const WHERE = { host: 0, cuda: 1 } as const;
export type Where = (typeof WHERE)[keyof typeof WHERE];

/** Element types as stored. */
export const DTYPE = { float32: 0, int32: 1, bool: 2 } as const;
export type DTypeCode = (typeof DTYPE)[keyof typeof DTYPE];

/** Unary op codes (float32 -> float32 unless noted). `alpha` is used by Step / LeakyRelu / Elu-like ops. */
export const UNARY = {
  Abs: 0, Exp: 1, Log: 2, Log1p: 3, Neg: 4, Relu: 5, Rsqrt: 6, Sqrt: 7, Square: 8,
  /** x > 0 ? 1 : (x is NaN ? NaN : alpha) (tfjs Step). */
  Step: 9,
  Sigmoid: 10, Tanh: 11, Reciprocal: 12, Sign: 13, Floor: 14, Ceil: 15, Expm1: 16,
  /** x >= 0 ? x : alpha * x */
  LeakyRelu: 17,
  Relu6: 18, Softplus: 19, Erf: 20, Elu: 21, Round: 22, Sin: 23, Cos: 24,
  /** int32/bool -> bool: x == 0 ? 1 : 0 */
  LogicalNot: 100,
} as const;

/** Binary op codes with broadcasting (strides 0 on broadcast axes). */
export const BINARY = {
  // arithmetic: inputs and output of the input dtype (float32 or int32)
  Add: 0, Sub: 1, Mul: 2, Div: 3, Max: 4, Min: 5, SquaredDifference: 6, Pow: 7, FloorDiv: 8, Mod: 9,
  // comparisons: float32 or int32 inputs -> bool
  Equal: 20, NotEqual: 21, Greater: 22, GreaterEqual: 23, Less: 24, LessEqual: 25,
  // logical: bool inputs -> bool
  LogicalAnd: 30, LogicalOr: 31,
} as const;

/** Reduction op codes over the middle axis of [outer, r, inner]. */
export const REDUCE = {
  Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4,
  /** int32 output: index in [0, r) of the first max / min */
  ArgMax: 5, ArgMin: 6,
  /** bool input and output */
  Any: 7, All: 8,
} as const;

/** Fused matmul activations (the CPU engine's matMul takes the same codes: src/kernels/matmul.ts). */
export const ACT = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, leakyrelu: 5 } as const;

/** The op-code tables as the addon exports them (`opCodes`, from csrc/op_codes.h). */
export interface OpCodeTables {
  unary: Record<string, number>;
  binary: Record<string, number>;
  reduce: Record<string, number>;
  act: Record<string, number>;
}

/** UNARY, BINARY, REDUCE and ACT spelled as csrc/op_codes.h spells them. */
export function cppOpCodes(): OpCodeTables {
  const rename = (t: Record<string, number>, f: (k: string) => string) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [f(k), v]));
  const actName = Object.fromEntries(["Linear", "Relu", "Relu6", "Elu", "Sigmoid", "LeakyRelu"].map((n) => [n.toLowerCase(), n]));
  return {
    unary: { ...UNARY },
    binary: rename(BINARY, (k) => (k === "SquaredDifference" ? "SqDiff" : k)),
    reduce: { ...REDUCE },
    act: rename(ACT, (k) => actName[k] ?? k),
  };
}

/**
 * Where `codes` (an addon's `opCodes`) differs from this package's tables, in words; null when
 * they agree. An addon built from other sources numbers its ops differently, so it is refused.
 */
export function opCodeMismatch(codes: unknown): string | null {
  if (typeof codes !== "object" || codes === null) return "it exports no op-code tables";
  const want = cppOpCodes();
  for (const family of Object.keys(want) as (keyof OpCodeTables)[]) {
    const got = (codes as Record<string, unknown>)[family] as Record<string, unknown> | undefined;
    const names = new Set([...Object.keys(want[family]), ...Object.keys(got ?? {})]);
    for (const name of names) {
      if (got?.[name] !== want[family][name]) {
        return `${family} ${name}: the addon has ${String(got?.[name])}, this package ${String(want[family][name])}`;
      }
    }
  }
  return null;
}

/** Matrix-product precision on CUDA (host is always fp32). */
export const PRECISION = { fp32: 0, tf32: 1, bf16: 2 } as const;
export type PrecisionCode = (typeof PRECISION)[keyof typeof PRECISION];

export interface GpuMemory {
  /** Bytes in live buffers. */
  allocatedBytes: number;
  /** Bytes held from the driver (live + cached blocks). */
  reservedBytes: number;
  peakAllocatedBytes: number;
  liveBuffers: number;
  /** Allocations served from the cache / from the driver (cudaMalloc). */
  cacheHits: number;
  driverAllocs: number;
}

export interface GpuRuntimeInfo {
  /** CUDA kernels compiled into the addon. */
  compiled: boolean;
  /** Visible CUDA devices (0 without GPU or driver). */
  devices: number;
  /** Set once init() ran: the device in use. */
  device: { index: number; name: string; computeCapability: string; totalMemoryBytes: number } | null;
  /** cuBLAS loaded at run time (null until init()). */
  cublas: { version: number | null; library: string } | null;
  precision: PrecisionCode;
}

export interface GpuAddon {
  runtimeInfo(): GpuRuntimeInfo;
  /**
   * Opens CUDA device `index`: stream, cuBLAS handle (dlopen), pinned staging. Idempotent for
   * the same index. Throws naming the problem when the addon has no CUDA, there is no device,
   * or cuBLAS cannot be loaded. Host buffers need no init.
   */
  init(index: number): void;
  /** A new buffer of `bytes` bytes (contents undefined) on `where`; returns its id (> 0). */
  alloc(where: Where, bytes: number): number;
  /** Releases a buffer (CUDA: back to the allocator's cache, stream-ordered, so no sync). */
  free(id: number): void;
  /** Copies `src` into the buffer at `byteOffset` (CUDA: via pinned staging, async; src reusable at once). */
  upload(id: number, src: ArrayBufferView, byteOffset?: number): void;
  /** Copies the buffer from `byteOffset` into `dst` (dst.byteLength bytes); waits for the stream. */
  download(id: number, dst: ArrayBufferView, byteOffset?: number): void;
  /** Buffer-to-buffer copy on one device. */
  copy(dst: number, dstByteOffset: number, src: number, srcByteOffset: number, bytes: number): void;
  /** Waits for all queued work; throws if a kernel failed asynchronously. */
  synchronize(): void;
  /** Returns cached CUDA blocks to the driver. */
  emptyCache(): void;
  memory(): GpuMemory;
  /** Records an event on the stream (CUDA only); returns its id. */
  eventRecord(): number;
  /** Milliseconds between two recorded events (waits for `end`); frees neither. */
  eventElapsedMs(start: number, end: number): number;
  eventFree(id: number): void;
  setMatmulPrecision(p: PrecisionCode): void;

  // ---- kernels (outputs are buffers JS allocated; they are overwritten entirely) ----
  fill(out: number, n: number, value: number, dtype: DTypeCode): void;
  /** Element conversion; to bool is x != 0; float32 -> int32 truncates toward zero like tfjs. */
  cast(x: number, out: number, n: number, from: DTypeCode, to: DTypeCode): void;
  unary(op: number, x: number, out: number, n: number, alpha: number): void;
  /** out[shape] = op(a, b); aStrides/bStrides per out axis (0 = broadcast); rank 1..8. */
  binary(op: number, a: number, b: number, out: number, shape: number[], aStrides: number[], bStrides: number[], inDtype: DTypeCode): void;
  /** out = cond != 0 ? a : b with broadcasting; 4-byte elements of any dtype. */
  select(cond: number, a: number, b: number, out: number, shape: number[], cStrides: number[], aStrides: number[], bStrides: number[]): void;
  /** out = sum of inputs (same length n, float32). */
  addN(out: number, inputs: number[], n: number): void;
  /** Reduces [outer, r, inner] over r into [outer, inner]. */
  reduce(op: number, x: number, out: number, outer: number, r: number, inner: number, inDtype: DTypeCode): void;
  /** Row softmax of [rows, cols] (max-subtracted). */
  softmax(x: number, out: number, rows: number, cols: number): void;
  /** out = x transposed by perm (4-byte elements, rank <= 8). */
  transpose(x: number, out: number, shape: number[], perm: number[]): void;
  /** dst[dstOffset + Σ i_d*dstStrides_d] = src[srcOffset + Σ i_d*srcStrides_d] over `shape` (4-byte elements, rank <= 8). */
  stridedCopy(src: number, dst: number, shape: number[], srcOffset: number, srcStrides: number[], dstOffset: number, dstStrides: number[]): void;
  /**
   * out[b] = act(op(A[ia]) · op(B[ib]) + bias) for b < batchOut, row-major [m,k]x[k,n] (before
   * transposes). Without idxA/idxB, ia = b % batchA, ib = b % batchB. bias: 0 or a buffer of
   * biasLen (1 or n) broadcast over rows.
   */
  matMul(a: number, b: number, out: number, batchA: number, batchB: number, batchOut: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, bias: number, biasLen: number, act: number, alpha: number, idxA?: Int32Array, idxB?: Int32Array): void;
  geluErf(x: number, out: number, n: number): void;
  geluErfGrad(dy: number, x: number, out: number, n: number): void;
  layerNorm(x: number, gamma: number, beta: number, out: number, rows: number, d: number, eps: number): void;
  layerNormGrad(dy: number, x: number, gamma: number, dx: number, dGamma: number, dBeta: number, rows: number, d: number, eps: number): void;
  /** BatchNorm1d training forward on x [B, C]; weight and bias 0 for affine=False. */
  batchNorm1d(x: number, weight: number, bias: number, runningMean: number, runningVar: number, y: number,
    runningMeanOut: number, runningVarOut: number, B: number, C: number, eps: number, momentum: number): void;
  /** Its gradient; weight, dWeight and dBias 0 for affine=False. */
  batchNorm1dGrad(dy: number, x: number, weight: number, dx: number, dWeight: number, dBias: number, B: number, C: number, eps: number): void;
  /** DilemmaEmbed (docs/ops.md); out-of-range indices throw (host) / are reported at the next sync (CUDA). */
  dilemmaEmbed(tokens: number, pos: number, realPos: number, inputPos: number, B: number, L: number, K: number, D: number, out: number): void;
  /**
   * Throws naming the op and problem if a CUDA DILEMMA kernel since the last call skipped a bad
   * index (CUDA kernels cannot throw), then resets; waits for the stream. No-op on host.
   */
  dilemmaCheck(): void;
  dilemmaEmbedGrad(dy: number, realPos: number, inputPos: number, B: number, L: number, K: number, D: number, dTokens: number, dPos: number): void;
  /**
   * Fused AdamW (core's AdamWUpdate op, torch semantics) on n elements, out of place:
   * p' = p*(1-lr*wd) - stepSize * m' / (sqrt(v')/sqrtBc2 + eps), m' = b1*m + (1-b1)*g, v' = b2*v + (1-b2)*g².
   */
  adamW(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, stepSize: number, sqrtBc2: number): void;
  /** Fused EMA (core's EmaUpdate op): out = target + (source - target)*(1-momentum), n float32 elements. */
  ema(target: number, source: number, out: number, n: number, momentum: number): void;
  /**
   * adamW over N parameters in one call (core's AdamWUpdate op with N groups): `ids` holds 7
   * buffer ids per parameter (p, g, m, v, pOut, mOut, vOut), `sizes` its element count and
   * `weightDecay` its decay (0: none). Empty tensors may pass id 0. Every argument is checked
   * before any buffer is written.
   */
  adamWMulti(ids: Float64Array, sizes: Float64Array, weightDecay: Float64Array,
    lr: number, beta1: number, beta2: number, eps: number, stepSize: number, sqrtBc2: number): void;
  /** ema over N parameters in one call: `ids` holds 3 buffer ids per parameter (target, source, out). */
  emaMulti(ids: Float64Array, sizes: Float64Array, momentum: number): void;
  /**
   * FusedAttention (docs/ops.md) on x [B, N, D] with H heads: out [B, N, D] and the saved
   * activations qkv [B, N, 3D], probs [B, H, N, N], ctx [B, N, D].
   */
  attention(x: number, qkvW: number, qkvB: number, projW: number, projB: number, out: number, qkv: number, probs: number,
    ctx: number, B: number, N: number, D: number, H: number): void;
  /** FusedAttentionGrad: dx [B, N, D], dQkvW [3D, D], dQkvB [3D], dProjW [D, D], dProjB [D]. */
  attentionGrad(dy: number, x: number, qkvW: number, projW: number, qkv: number, probs: number, ctx: number, dx: number,
    dQkvW: number, dQkvB: number, dProjW: number, dProjB: number, B: number, N: number, D: number, H: number): void;
  /** FusedMlp on x [rows, D], hidden units Hd: out [rows, D], saved pre and act [rows, Hd]. */
  mlp(x: number, fc1W: number, fc1B: number, fc2W: number, fc2B: number, out: number, pre: number, act: number,
    rows: number, D: number, Hd: number): void;
  /** FusedMlpGrad: dx [rows, D], dFc1W [Hd, D], dFc1B [Hd], dFc2W [D, Hd], dFc2B [D]. */
  mlpGrad(dy: number, x: number, fc1W: number, fc2W: number, pre: number, act: number, dx: number, dFc1W: number,
    dFc1B: number, dFc2W: number, dFc2B: number, rows: number, D: number, Hd: number): void;
}
