// FusedAttention / FusedMlp (+ grads) at ViT-S/16 shapes: sparse (cls + 49 kept) with the
// gradient, dense (197) forward as the momentum encoder runs it. Fewer rows when validating
// (as matmul). Byte model: the default; TFLOP/s from the products inside.
import { DH, f32, H, KEPT, L, D, type Family, type KernelCase, type Tol } from "../case.js";

/** Outputs are sums of fp32 products (k = D): tolerance relative to the output scale. */
export const GEMM_TOL: Tol = { rtol: 1e-5, atolScale: 5e-5 };
/** Weight gradients sum over all rows: more slack. */
export const SUM_TOL: Tol = { rtol: 1e-5, atolScale: 2e-4 };
export const PROBS_TOL: Tol = { rtol: 1e-5, atolScale: 1e-5 };

export const fused: Family = {
  name: "fused",
  cases({ G, native: { WHERE }, rand, B, forTiming, validateBatchMatmul }) {
    const Bf = forTiming ? B : Math.min(B, validateBatchMatmul);
    const cases: KernelCase[] = [];
    for (const N of [KEPT + 1, L + 1]) {
      const R = Bf * N;
      const x = rand("normal", R * D), qkvW = rand("normal", 3 * D * D, 0.05), qkvB = rand("normal", 3 * D, 0.1);
      const projW = rand("normal", D * D, 0.05), projB = rand("normal", D, 0.1);
      cases.push({
        name: `attention N=${N}`, shape: `${Bf}x${N}x${D} H${H}`, ins: [x, qkvW, qkvB, projW, projB],
        outs: [f32(R * D), f32(R * 3 * D), f32(Bf * H * N * N), f32(R * D)],
        call: ([ix, iw, ib, ipw, ipb], [o, q, p, c]) => G.attention(ix, iw, ib, ipw, ipb, o, q, p, c, Bf, N, D, H),
        tol: [GEMM_TOL, GEMM_TOL, PROBS_TOL, GEMM_TOL],
        flops: 2 * R * 4 * D * D + 4 * Bf * N * N * D,
      });
      if (N !== KEPT + 1) continue;
      // the gradient, fed a consistent forward (computed on the host here: same inputs both sides;
      // timing cases keep random saved activations, which cost the same)
      const fw = [R * D, R * 3 * D, Bf * H * N * N, R * D].map((n) => rand("normal", n));
      if (!forTiming) {
        const ids = [x, qkvW, qkvB, projW, projB].map((a) => { const id = G.alloc(WHERE.host, Math.max(4, a.byteLength)); G.upload(id, a); return id; });
        const outs = fw.map((a) => G.alloc(WHERE.host, 4 * a.length));
        const [ix, iw, ib, ipw, ipb] = ids, [o, q, p, c] = outs;
        G.attention(ix, iw, ib, ipw, ipb, o, q, p, c, Bf, N, D, H);
        outs.forEach((id, i) => G.download(id, fw[i]));
        [...ids, ...outs].forEach((id) => G.free(id));
      }
      const dy = rand("normal", R * D);
      cases.push({
        name: `attentionGrad N=${N}`, shape: `${Bf}x${N}x${D} H${H}`, ins: [dy, x, qkvW, projW, fw[1], fw[2], fw[3]],
        outs: [f32(R * D), f32(3 * D * D), f32(3 * D), f32(D * D), f32(D)],
        call: ([idy, ix, iw, ipw, iq, ip, ic], [dx, dw, db, dpw, dpb]) => G.attentionGrad(idy, ix, iw, ipw, iq, ip, ic, dx, dw, db, dpw, dpb, Bf, N, D, H),
        tol: [GEMM_TOL, SUM_TOL, SUM_TOL, SUM_TOL, SUM_TOL],
        flops: 2 * 2 * R * 4 * D * D + 8 * Bf * N * N * D,
      });
    }
    const R = Bf * (KEPT + 1);
    const x = rand("normal", R * D), fc1W = rand("normal", DH * D, 0.05), fc1B = rand("normal", DH, 0.1), fc2W = rand("normal", D * DH, 0.05), fc2B = rand("normal", D, 0.1);
    cases.push({
      name: "mlp", shape: `${R}x${D}x${DH}`, ins: [x, fc1W, fc1B, fc2W, fc2B], outs: [f32(R * D), f32(R * DH), f32(R * DH)],
      call: ([ix, i1, ib1, i2, ib2], [o, pre, act]) => G.mlp(ix, i1, ib1, i2, ib2, o, pre, act, R, D, DH),
      tol: [GEMM_TOL, GEMM_TOL, { ...GEMM_TOL, rtol: 2e-6 + GEMM_TOL.rtol }], flops: 4 * R * D * DH, // act: + GELU's few ulp
    });
    const pre = rand("normal", R * DH), act = rand("normal", R * DH), dy = rand("normal", R * D);
    cases.push({
      name: "mlpGrad", shape: `${R}x${D}x${DH}`, ins: [dy, x, fc1W, fc2W, pre, act],
      outs: [f32(R * D), f32(DH * D), f32(DH), f32(D * DH), f32(D)],
      call: ([idy, ix, i1, i2, ip, ia], [dx, d1, db1, d2, db2]) => G.mlpGrad(idy, ix, i1, i2, ip, ia, dx, d1, db1, d2, db2, R, D, DH),
      tol: [GEMM_TOL, SUM_TOL, SUM_TOL, SUM_TOL, SUM_TOL], flops: 8 * R * D * DH,
    });
    return cases;
  },
};
