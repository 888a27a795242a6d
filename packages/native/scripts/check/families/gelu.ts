// GELU (erf form) and its gradient on the MLP's hidden activations. Byte model: the default.
import { DH, f32, tokens, TRANS, type Family, type Tol } from "../case.js";

/** erf / exp: libm-class accuracy. */
export const GELU_TOL: Tol = TRANS;

export const gelu: Family = {
  name: "gelu",
  cases({ G, rand, B }) {
    const N = tokens(B) * DH, x = rand("normal", N), dy = rand("normal", N);
    return [
      { name: "geluErf", shape: `${N}`, ins: [x], outs: [f32(N)], call: ([ix], [o]) => G.geluErf(ix, o, N), tol: [GELU_TOL] },
      { name: "geluErfGrad", shape: `${N}`, ins: [dy, x], outs: [f32(N)], call: ([idy, ix], [o]) => G.geluErfGrad(idy, ix, o, N), tol: [GELU_TOL] },
    ];
  },
};
