// DILEMMA embed (docs/ops.md): out[b,i,:] = tokens[b, realPos[b,i], :] + pos[inputPos[b,i], :]
// and its gradient, on positions drawn by core's sampler: the ViT-S/16 training shape, then
// shapes that reach other kernel paths (embed_atomic.ts runs the addon's cudaDilemmaCheck at the
// same ones), and an out-of-range index that must be flagged.
import { EXACT, f32, i32, KEPT, L, D, type CaseContext, type Family, type KernelCase, type Tol } from "../case.js";

/** Forward: one float add, bitwise. dTokens: rows copied, bitwise. dPos: the same (b, i) summation order as the CPU, but allow an ulp-class slack. */
export const EMBED_TOL: Tol = EXACT;
export const EMBED_GRAD_TOL: Tol[] = [EXACT, { rtol: 1e-6, atolScale: 1e-6 }];
/** pytorch_bench.py's byte models (indices not counted): forward reads a token and a pos row and writes a row per kept token. */
export const embedBytes = (B: number, L: number, K: number, D: number): number => 4 * 3 * B * K * D;
/** Backward: writes dTokens (all rows), reads dy twice (dTokens and dPos), writes dPos. */
export const embedGradBytes = (B: number, L: number, K: number, D: number): number => 4 * (B * L * D + 2 * B * K * D + L * D);

/** Further shapes (B at timing; validation caps B at the validation batch). */
export const EXTRA_SHAPES = [
  { B: 64, L: 64, K: 16, D: 192 },
  { B: 256, L: 196, K: 49, D: 768 }, // ViT-B width
  { B: 64, L: 196, K: 196, D: 384 }, // dense K = L (mirror corruption)
  { B: 8, L: 17, K: 17, D: 30 }, // odd L, D % 4 != 0: the scalar (not float4) paths
];

function sample({ core }: CaseContext, B: number, L: number, K: number) {
  const s = core.sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - K / L, dilemmaProb: 0.2, rng: { seed: 11, counter: B } });
  if (s.realPos.length !== B * K) throw new Error(`embed: sampler kept ${s.realPos.length / B} of ${L}, not ${K}`);
  return { real: Int32Array.from(s.realPos), inp: Int32Array.from(s.inputPos) };
}

function embedCases(ctx: CaseContext, B: number, L: number, K: number, D: number, suffix: string): KernelCase[] {
  const { G, rand } = ctx;
  const { real, inp } = sample(ctx, B, L, K);
  const tokens = rand("normal", B * L * D), pos = rand("normal", L * D), dy = rand("normal", B * K * D);
  const shape = `${B},${L},${K},${D}`;
  return [
    { name: `dilemmaEmbed${suffix}`, shape, ins: [tokens, pos, real, inp], outs: [f32(B * K * D)],
      call: ([it, ip, ir, ii], [o]) => G.dilemmaEmbed(it, ip, ir, ii, B, L, K, D, o), tol: [EMBED_TOL], bytes: embedBytes(B, L, K, D) },
    { name: `dilemmaEmbedGrad${suffix}`, shape, ins: [dy, real, inp], outs: [f32(B * L * D), f32(L * D)],
      call: ([idy, ir, ii], [dt, dp]) => G.dilemmaEmbedGrad(idy, ir, ii, B, L, K, D, dt, dp), tol: EMBED_GRAD_TOL, bytes: embedGradBytes(B, L, K, D) },
  ];
}

/**
 * realPos[0] = L: the host kernel throws at the call, a CUDA kernel skips the row and sets the
 * error word that dilemmaCheck() throws on. The case's one output is 1 when the error was
 * raised either way, so host and device must both read 1.
 */
function boundsCase(ctx: CaseContext): KernelCase {
  const { G, rand } = ctx, B = 2;
  const { real, inp } = sample(ctx, B, L, KEPT);
  real[0] = L;
  return {
    name: "dilemmaEmbed bad index flagged", shape: `${B},${L},${KEPT},${D}`, ins: [rand("normal", B * L * D), rand("normal", L * D), real, inp],
    outs: [f32(B * KEPT * D), i32(1)], tol: [{ rtol: 0, atol: Infinity }, EXACT], bytes: 0,
    call: ([it, ip, ir, ii], [o, flagged]) => {
      let raised = 0;
      try {
        G.dilemmaEmbed(it, ip, ir, ii, B, L, KEPT, D, o);
        G.dilemmaCheck();
      } catch {
        raised = 1;
      }
      G.fill(o, B * KEPT * D, 0, ctx.native.DTYPE.float32); // the skipped / unwritten rows are not compared
      G.fill(flagged, 1, raised, ctx.native.DTYPE.int32);
    },
  };
}

export const embed: Family = {
  name: "embed",
  cases(ctx) {
    const cases = embedCases(ctx, ctx.B, L, KEPT, D, "");
    for (const s of EXTRA_SHAPES) {
      cases.push(...embedCases(ctx, ctx.forTiming ? s.B : Math.min(s.B, ctx.B), s.L, s.K, s.D, ` ${s.L},${s.K},${s.D}`));
    }
    cases.push(boundsCase(ctx));
    return cases;
  },
};
