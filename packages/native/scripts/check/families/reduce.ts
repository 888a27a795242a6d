// Reductions over the middle axis of [outer, r, inner], at the model's shapes (bias gradient,
// row sums and means, attention row max, ...). Byte model: the default.
import { EXACT, H, KEPT, tokens, D, type Family, type KernelCase, type Tol } from "../case.js";
import type { PoolKind } from "../inputs.js";

/** Sums grow their rounding with sqrt(r); a product of r factors with r; max/min/arg/any/all are exact. */
export function reduceTol(op: string, r: number): Tol {
  if (op === "Sum" || op === "Mean") return { rtol: 1e-6, atolScale: 2e-6 * Math.sqrt(r) };
  if (op === "Prod") return { rtol: 2e-6 * r, atolScale: 0 };
  return EXACT;
}

export const reduce: Family = {
  name: "reduce",
  cases({ G, native: { DTYPE, REDUCE }, rand, B }) {
    const T = tokens(B);
    const cases: KernelCase[] = [];
    const red = (op: keyof typeof REDUCE, outer: number, r: number, inner: number, kind: PoolKind, outDtype: "float32" | "int32" = "float32") => {
      const x = rand(kind, outer * r * inner);
      const inDtype = kind === "bool" ? DTYPE.bool : DTYPE.float32;
      cases.push({
        name: `reduce ${op} [${outer},${r},${inner}]`, shape: `${outer}x${r}x${inner}`, ins: [x], outs: [{ n: outer * inner, dtype: outDtype }],
        call: ([ix], [o]) => G.reduce(REDUCE[op], ix, o, outer, r, inner, inDtype), tol: [reduceTol(op, r)],
      });
    };
    red("Sum", 1, T, D, "normal"); // bias gradient
    red("Sum", T, D, 1, "normal"); // row sums
    red("Mean", T, D, 1, "normal");
    red("Max", B * H * (KEPT + 1), KEPT + 1, 1, "normal");
    red("Min", T, D, 1, "normal");
    red("Prod", T, 8, 1, "near1");
    red("ArgMax", T, D, 1, "normal", "int32");
    red("ArgMin", 1, T, D, "normal", "int32");
    red("Any", T, D, 1, "bool", "int32");
    red("All", T, 4, 1, "bool", "int32");
    return cases;
  },
};
