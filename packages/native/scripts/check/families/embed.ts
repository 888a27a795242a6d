// DILEMMA embed (docs/ops.md): out[b,i,:] = tokens[b, realPos[b,i], :] + pos[inputPos[b,i], :]
// and its gradient, on positions drawn by core's sampler at the ViT-S/16 shape.
import { EXACT, f32, KEPT, L, D, type Family, type Tol } from "../case.js";

/** Forward: one float add, bitwise. dTokens: rows copied, bitwise. dPos: the same (b, i) summation order as the CPU, but allow an ulp-class slack. */
export const EMBED_TOL: Tol = EXACT;
export const EMBED_GRAD_TOL: Tol[] = [EXACT, { rtol: 1e-6, atolScale: 1e-6 }];
/** pytorch_bench.py's byte models (indices not counted): forward reads a token and a pos row and writes a row per kept token. */
export const embedBytes = (B: number, L: number, K: number, D: number): number => 4 * 3 * B * K * D;
/** Backward: writes dTokens (all rows), reads dy twice (dTokens and dPos), writes dPos. */
export const embedGradBytes = (B: number, L: number, K: number, D: number): number => 4 * (B * L * D + 2 * B * K * D + L * D);

export const embed: Family = {
  name: "embed",
  cases({ G, core, rand, B }) {
    const s = core.sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - KEPT / L, dilemmaProb: 0.2, rng: { seed: 11, counter: B } });
    const real = Int32Array.from(s.realPos), inp = Int32Array.from(s.inputPos);
    const tokens = rand("normal", B * L * D), pos = rand("normal", L * D), dy = rand("normal", B * KEPT * D);
    const shape = `${B},${L},${KEPT},${D}`;
    return [
      { name: "dilemmaEmbed", shape, ins: [tokens, pos, real, inp], outs: [f32(B * KEPT * D)],
        call: ([it, ip, ir, ii], [o]) => G.dilemmaEmbed(it, ip, ir, ii, B, L, KEPT, D, o), tol: [EMBED_TOL], bytes: embedBytes(B, L, KEPT, D) },
      { name: "dilemmaEmbedGrad", shape, ins: [dy, real, inp], outs: [f32(B * L * D), f32(L * D)],
        call: ([idy, ir, ii], [dt, dp]) => G.dilemmaEmbedGrad(idy, ir, ii, B, L, KEPT, D, dt, dp), tol: EMBED_GRAD_TOL, bytes: embedGradBytes(B, L, KEPT, D) },
    ];
  },
};
