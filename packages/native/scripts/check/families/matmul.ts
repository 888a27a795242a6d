// Matrix products at ViT-S/16 training shapes (linear layers forward and both gradients,
// attention's batched products, a shared weight, explicit batch indices), in fp32 and, for the
// two largest, tf32 and bf16. Fewer rows when validating: the host reference is a CPU.
// Byte model: the default; TFLOP/s from 2·m·n·k per output matrix.
import { DH, f32, H, HD, KEPT, D, type CaseContext, type Family, type KernelCase, type Precision } from "../case.js";
import { rms } from "../inputs.js";

/**
 * Tolerance c(precision) of the output scale sqrt(k)·rms(A)·rms(B). Rounding both operands to a
 * unit roundoff u gives errors of ~u times that scale (random signs); c is ~10x: TF32
 * u = 2^-11 (doubled in case the conversion truncates), bf16 2^-8; fp32 sums grow ~u·sqrt(k).
 */
export const MM_C: Record<Precision, number> = { fp32: 5e-5, tf32: 8e-3, bf16: 3e-2 };

interface MatmulSpec {
  batchA?: number; batchB?: number; batchOut?: number; m: number; n: number; k: number;
  transA?: boolean; transB?: boolean; bias?: boolean; act?: number; idx?: boolean;
}

function matmulCase({ G, rand }: CaseContext, name: string, spec: MatmulSpec, precision: Precision): KernelCase {
  const { batchA = 1, batchB = 1, batchOut = 1, m, n, k, transA = false, transB = false, bias = false, act = 0, idx = false } = spec;
  const a = rand("normal", batchA * m * k), b = rand("normal", batchB * k * n, 0.05);
  const ins = [a, b];
  if (bias) ins.push(rand("normal", n, 0.1));
  const idxA = idx ? Int32Array.from({ length: batchOut }, (_, i) => (i * 7) % batchA) : undefined;
  const idxB = idx ? Int32Array.from({ length: batchOut }, (_, i) => (i * 3) % batchB) : undefined;
  return {
    name: `${name}${precision === "fp32" ? "" : ` [${precision}]`}`, precision,
    shape: `${batchOut}x${m}x${n}x${k}${transA ? " tA" : ""}${transB ? " tB" : ""}`,
    ins, outs: [f32(batchOut * m * n)],
    call: ([ia, ib, ibias], [o]) => G.matMul(ia, ib, o, batchA, batchB, batchOut, m, n, k, transA, transB, bias ? ibias : 0, bias ? n : 0, act, 0, idxA, idxB),
    tol: [{ rtol: 1e-6, atol: MM_C[precision] * Math.sqrt(k) * rms(a) * rms(b) }],
    flops: 2 * batchOut * m * n * k,
  };
}

export const matmul: Family = {
  name: "matmul",
  cases(ctx) {
    const Bm = ctx.forTiming ? ctx.B : Math.min(ctx.B, ctx.validateBatchMatmul);
    const Tm = Bm * (KEPT + 1);
    const heads = { batchA: Bm * H, batchB: Bm * H, batchOut: Bm * H };
    const fc1 = { m: Tm, n: DH, k: D, bias: true }, fc2dW = { m: DH, n: D, k: Tm, transA: true };
    const specs: [string, MatmulSpec][] = [
      ["matMul fc1 +bias", fc1],
      ["matMul qkv +bias relu", { m: Tm, n: 3 * D, k: D, bias: true, act: 1 }],
      ["matMul fc1 dX (tB)", { m: Tm, n: D, k: DH, transB: true }],
      ["matMul fc2 dW (tA)", fc2dW],
      ["matMul attn q.kT", { ...heads, m: KEPT + 1, n: KEPT + 1, k: HD, transB: true }],
      ["matMul attn p.v", { ...heads, m: KEPT + 1, n: HD, k: KEPT + 1 }],
      ["matMul shared W", { batchA: Bm, batchB: 1, batchOut: Bm, m: KEPT + 1, n: D, k: D }],
      ["matMul indexed", { batchA: 4, batchB: 3, batchOut: 8, m: 33, n: 65, k: 70, idx: true }],
    ];
    const cases = specs.map(([name, spec]) => matmulCase(ctx, name, spec, "fp32"));
    for (const p of ["tf32", "bf16"] as const) {
      cases.push(matmulCase(ctx, "matMul fc1 +bias", fc1, p), matmulCase(ctx, "matMul fc2 dW (tA)", fc2dW, p));
    }
    return cases;
  },
};
