// Elementwise, several inputs: binary ops with the broadcasts the model uses (bias over rows,
// per-row scale, scalar, the rank-4 attention mask), select, addN. Byte model: the default.
import { contiguous, EXACT, f32, H, KEPT, ROUND, size, tokens, TRANS, D, type Family, type KernelCase, type Tol } from "../case.js";
import type { PoolKind } from "../inputs.js";

/** addN: another summation order may differ by an ulp of the partial sums (~2·rms), also where the sum cancels. */
export const ADDN_TOL: Tol = { rtol: 4e-7, atolScale: 5e-7 };

type Kind = PoolKind | "nonzero";
type DType = "float32" | "int32" | "bool";

export const binary: Family = {
  name: "binary",
  cases({ G, native: { BINARY, DTYPE }, rand, B }) {
    const T = tokens(B), n = T * D;
    const cases: KernelCase[] = [];
    const input = (kind: Kind, len: number) => {
      if (kind !== "nonzero") return rand(kind, len);
      const a = rand("int", len); // divisors: no zeros
      for (let i = 0; i < len; i++) if (a[i] === 0) a[i] = 7;
      return a;
    };
    const bin = (op: keyof typeof BINARY, shape: number[], aShape: number[], bShape: number[], kindA: Kind, kindB: Kind,
      tol: Tol, inDtype: DType = "float32", outDtype: DType = inDtype) => {
      const strides = (s: number[]) => { const c = contiguous(s); return s.map((d, i) => (d === 1 && shape[i] !== 1 ? 0 : c[i])); };
      const a = input(kindA, size(aShape)), b = input(kindB, size(bShape));
      const as = strides(aShape), bs = strides(bShape);
      cases.push({
        name: `binary ${op} ${aShape.join("x")}${bShape.join("x") === aShape.join("x") ? "" : " . " + bShape.join("x")}`, shape: shape.join("x"),
        ins: [a, b], outs: [outDtype === "float32" ? f32(size(shape)) : { n: size(shape), dtype: "int32" }],
        call: ([ia, ib], [o]) => G.binary(BINARY[op], ia, ib, o, shape, as, bs, DTYPE[inDtype]), tol: [tol],
      });
    };
    const TD = [T, D];
    bin("Add", TD, TD, TD, "normal", "normal", EXACT);
    bin("Add", TD, TD, [1, D], "normal", "normal", EXACT);
    bin("Sub", TD, TD, TD, "normal", "normal", EXACT);
    bin("Mul", TD, TD, [T, 1], "normal", "normal", EXACT);
    bin("Mul", TD, TD, [1, 1], "normal", "normal", EXACT);
    bin("Div", TD, TD, TD, "normal", "pos", ROUND);
    bin("Max", TD, TD, TD, "normal", "normal", EXACT);
    bin("Min", TD, TD, TD, "normal", "normal", EXACT);
    bin("SquaredDifference", TD, TD, TD, "normal", "normal", ROUND);
    bin("Pow", TD, TD, TD, "pos", "normal", TRANS);
    bin("FloorDiv", TD, TD, TD, "int", "nonzero", EXACT, "int32");
    bin("Mod", TD, TD, TD, "int", "nonzero", EXACT, "int32");
    const mask = [B, H, KEPT + 1, KEPT + 1];
    bin("Add", mask, mask, [1, 1, KEPT + 1, KEPT + 1], "normal", "normal", EXACT);
    for (const op of ["Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual"] as const) bin(op, TD, TD, TD, "grid", "grid", EXACT, "float32", "bool");
    bin("Greater", TD, TD, [1, D], "int", "int", EXACT, "int32", "bool");
    bin("LogicalAnd", TD, TD, TD, "bool", "bool", EXACT, "bool");
    bin("LogicalOr", TD, TD, [T, 1], "bool", "bool", EXACT, "bool");

    const c = rand("bool", n), a = rand("normal", n), b = rand("normal", n), st = contiguous(TD);
    cases.push({ name: "select", shape: TD.join("x"), ins: [c, a, b], outs: [f32(n)], call: ([ic, ia, ib], [o]) => G.select(ic, ia, ib, o, TD, st, st, st), tol: [EXACT] });
    const c1 = rand("bool", T);
    cases.push({ name: "select cond Tx1", shape: TD.join("x"), ins: [c1, a, b], outs: [f32(n)], call: ([ic, ia, ib], [o]) => G.select(ic, ia, ib, o, TD, [1, 0], st, st), tol: [EXACT] });

    const xs = [rand("normal", n), rand("normal", n), rand("normal", n)];
    cases.push({ name: "addN x3", shape: `${n}`, ins: xs, outs: [f32(n)], call: (ids, [o]) => G.addN(o, ids, n), tol: [ADDN_TOL] });
    return cases;
  },
};
