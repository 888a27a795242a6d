// BatchNorm1d (training mode) forward and gradient on the MoCo v3 projector's [B, 4096] and
// predictor's [B, 256]. Byte model: the default (each pass after the first re-reads x from L2).
import { f32, type Family, type Tol } from "../case.js";

/** y and dx per element; the running statistics and parameter gradients are column sums over B rows. */
const BN_TOL: Tol = { rtol: 1e-5, atolScale: 1e-5 };

export const batchnorm: Family = {
  name: "batchnorm",
  cases({ G, rand, B }) {
    return [4096, 256].flatMap((C) => {
      const x = rand("normal", B * C, 2), w = rand("near1", C), b = rand("normal", C, 0.1), rm = rand("normal", C, 0.1), rv = rand("near1", C);
      const dy = rand("normal", B * C);
      return [
        { name: "batchNorm1d", shape: `${B}x${C}`, ins: [x, w, b, rm, rv], outs: [f32(B * C), f32(C), f32(C)],
          call: ([ix, iw, ib, irm, irv]: number[], [y, rmo, rvo]: number[]) => G.batchNorm1d(ix, iw, ib, irm, irv, y, rmo, rvo, B, C, 1e-5, 0.1), tol: [BN_TOL] },
        { name: "batchNorm1dGrad", shape: `${B}x${C}`, ins: [dy, x, w], outs: [f32(B * C), f32(C), f32(C)],
          call: ([idy, ix, iw]: number[], [dx, dw, db]: number[]) => G.batchNorm1dGrad(idy, ix, iw, dx, dw, db, B, C, 1e-5), tol: [BN_TOL] },
      ];
    });
  },
};
