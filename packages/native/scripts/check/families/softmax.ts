// Row softmax of attention scores: sparse (cls + 49 kept tokens) and dense (197). Byte model: the default.
import { f32, H, KEPT, L, type Family, type Tol } from "../case.js";

/** exp and a row sum of <= 197 terms: a few ulp relative, plus slack for the near-zero probabilities. */
export const SOFTMAX_TOL: Tol = { rtol: 1e-5, atolScale: 1e-6 };

export const softmax: Family = {
  name: "softmax",
  cases({ G, rand, B }) {
    return [KEPT + 1, L + 1].map((N) => {
      const rows = B * H * N;
      return { name: `softmax ${N}`, shape: `${rows}x${N}`, ins: [rand("normal", rows * N, 3)], outs: [f32(rows * N)],
        call: ([x], [o]) => G.softmax(x, o, rows, N), tol: [SOFTMAX_TOL] };
    });
  },
};
