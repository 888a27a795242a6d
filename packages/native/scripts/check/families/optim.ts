// The fused optimizer kernels, on the largest ViT-S parameter (one kernel per parameter):
// AdamW and the momentum-encoder EMA. Byte model: the default.
import { DH, EXACT, f32, D, type Family, type Tol } from "../case.js";

/** p', m', v': a few fp32 ops each; m' and v' are single fused multiply-adds. */
export const ADAMW_TOL: Tol[] = [{ rtol: 1e-6, atolScale: 1e-6 }, { rtol: 4e-7, atolScale: 5e-7 }, { rtol: 4e-7, atolScale: 1e-7 }];
/** EMA: rounded intrinsics, so bit-identical to the reference. */
export const EMA_TOL: Tol = EXACT;

export const optim: Family = {
  name: "optim",
  cases({ G, rand }) {
    const N = D * DH;
    const p = rand("normal", N, 0.02), g = rand("normal", N, 1e-2), m = rand("normal", N, 1e-3), v = rand("pos", N, 1e-5);
    const lr = 5e-4, b1 = 0.9, b2 = 0.999, t = 3;
    return [
      { name: "adamW", shape: `${N}`, ins: [p, g, m, v], outs: [f32(N), f32(N), f32(N)], tol: ADAMW_TOL,
        call: ([ip, ig, im, iv], [op, om, ov]) => G.adamW(ip, ig, im, iv, op, om, ov, N, lr, b1, b2, 1e-8, 0.05, lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t)) },
      { name: "ema", shape: `${N}`, ins: [p, m], outs: [f32(N)], call: ([it, is], [o]) => G.ema(it, is, o, N, 0.996), tol: [EMA_TOL] },
    ];
  },
};
