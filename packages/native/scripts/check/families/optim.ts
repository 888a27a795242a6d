// The fused optimizer kernels, on the largest ViT-S parameter (adamW, ema: one tensor) and on
// the 12 parameters of one ViT-S block in one call (adamWMulti, emaMulti: what the backend runs,
// one call per step for all parameters): AdamW and the momentum-encoder EMA. Byte model: the default.
import { DH, EXACT, f32, D, size, type Family, type Tol } from "../case.js";

/** One ViT-S block's parameters: shape and whether AdamW decays it (weights yes; biases and norms no). */
export const BLOCK_PARAMS: [shape: number[], decays: boolean][] = [
  [[D], false], [[D], false], [[3 * D, D], true], [[3 * D], false], [[D, D], true], [[D], false],
  [[D], false], [[D], false], [[DH, D], true], [[DH], false], [[D, DH], true], [[D], false],
];

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
    const sizes = BLOCK_PARAMS.map(([shape]) => size(shape)), wds = BLOCK_PARAMS.map(([, decays]) => (decays ? 0.05 : 0));
    const blockIns = sizes.flatMap((n) => [rand("normal", n, 0.02), rand("normal", n, 1e-2), rand("normal", n, 1e-3), rand("pos", n, 1e-5)]);
    const emaIns = sizes.flatMap((n, k) => (k === 0 ? [blockIns[0], blockIns[0]] : [blockIns[4 * k], blockIns[4 * k + 2]])); // tensor 0: target == source
    // ids per tensor: (p, g, m, v, pOut, mOut, vOut) / (target, source, out)
    const adamWIds = (ins: number[], outs: number[]) => Float64Array.from(sizes.flatMap((_, k) => [...ins.slice(4 * k, 4 * k + 4), ...outs.slice(3 * k, 3 * k + 3)]));
    const emaIds = (ins: number[], outs: number[]) => Float64Array.from(sizes.flatMap((_, k) => [ins[2 * k], ins[2 * k + 1], outs[k]]));
    const block = `${sizes.length} tensors, ${sizes.reduce((a, b) => a + b, 0)}`;
    return [
      { name: "adamWMulti block", shape: block, ins: blockIns, outs: sizes.flatMap((n) => [f32(n), f32(n), f32(n)]), tol: sizes.flatMap(() => ADAMW_TOL),
        call: (ins, outs) => G.adamWMulti(adamWIds(ins, outs), Float64Array.from(sizes), Float64Array.from(wds), lr, b1, b2, 1e-8, lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t)) },
      { name: "emaMulti block", shape: block, ins: emaIns, outs: sizes.map((n) => f32(n)), tol: [EMA_TOL],
        call: (ins, outs) => G.emaMulti(emaIds(ins, outs), Float64Array.from(sizes), 0.996) },
      { name: "adamW", shape: `${N}`, ins: [p, g, m, v], outs: [f32(N), f32(N), f32(N)], tol: ADAMW_TOL,
        call: ([ip, ig, im, iv], [op, om, ov]) => G.adamW(ip, ig, im, iv, op, om, ov, N, lr, b1, b2, 1e-8, 0.05, lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t)) },
      { name: "ema", shape: `${N}`, ins: [p, m], outs: [f32(N)], call: ([it, is], [o]) => G.ema(it, is, o, N, 0.996), tol: [EMA_TOL] },
    ];
  },
};
