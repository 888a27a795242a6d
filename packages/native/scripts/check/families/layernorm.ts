// LayerNorm forward and gradient over D = 384. Byte model: the default.
import { f32, tokens, D, type Family, type Tol } from "../case.js";

export const LAYERNORM_TOL: Tol = { rtol: 1e-5, atolScale: 1e-6 };
/** dx, then dGamma / dBeta: column sums over all rows, so their slack grows with sqrt(rows). */
export const layerNormGradTol = (rows: number): Tol[] => [
  { rtol: 1e-5, atolScale: 1e-5 }, { rtol: 1e-5, atolScale: 2e-6 * Math.sqrt(rows) }, { rtol: 1e-5, atolScale: 2e-6 * Math.sqrt(rows) },
];

export const layernorm: Family = {
  name: "layernorm",
  cases({ G, rand, B }) {
    const rows = tokens(B), x = rand("normal", rows * D, 2), g = rand("near1", D), b = rand("normal", D, 0.1), dy = rand("normal", rows * D);
    return [
      { name: "layerNorm", shape: `${rows}x${D}`, ins: [x, g, b], outs: [f32(rows * D)],
        call: ([ix, ig, ib], [o]) => G.layerNorm(ix, ig, ib, o, rows, D, 1e-6), tol: [LAYERNORM_TOL] },
      { name: "layerNormGrad", shape: `${rows}x${D}`, ins: [dy, x, g], outs: [f32(rows * D), f32(D), f32(D)],
        call: ([idy, ix, ig], [dx, dg, db]) => G.layerNormGrad(idy, ix, ig, dx, dg, db, rows, D, 1e-6), tol: layerNormGradTol(rows) },
    ];
  },
};
