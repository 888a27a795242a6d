// Elementwise, one input: fill, cast, every unary op code, on the sparse encoder's activations.
// Byte model: the default (input and output once).
import { EXACT, f32, i32, ROUND, tokens, TRANS, D, type Family, type KernelCase, type Tol } from "../case.js";
import type { PoolKind } from "../inputs.js";

/** Input distribution (inside each op's domain) and tolerance of every float unary op. */
export const UNARY_CASES: Record<string, [PoolKind, Tol]> = {
  Abs: ["normal", EXACT], Exp: ["normal", TRANS], Log: ["pos", TRANS], Log1p: ["pos", TRANS], Neg: ["normal", EXACT],
  Relu: ["normal", EXACT], Rsqrt: ["pos", TRANS], Sqrt: ["pos", TRANS], Square: ["normal", ROUND], Step: ["normal", EXACT],
  Sigmoid: ["normal", TRANS], Tanh: ["normal", TRANS], Reciprocal: ["pos", TRANS], Sign: ["normal", EXACT],
  Floor: ["normal", EXACT], Ceil: ["normal", EXACT], Expm1: ["normal", TRANS], LeakyRelu: ["normal", ROUND],
  Relu6: ["normal", EXACT], Softplus: ["normal", TRANS], Erf: ["normal", TRANS], Elu: ["normal", TRANS],
  Round: ["grid", EXACT], Sin: ["normal", TRANS], Cos: ["normal", TRANS],
};

export const unary: Family = {
  name: "unary",
  cases({ G, native: { DTYPE, UNARY }, rand, B }) {
    const n = tokens(B) * D;
    const cases: KernelCase[] = [
      { name: "fill", shape: `${n}`, ins: [], outs: [f32(n)], call: (_, [o]) => G.fill(o, n, 0.5, DTYPE.float32), tol: [EXACT] },
      { name: "cast f32->i32", shape: `${n}`, ins: [rand("normal", n, 100)], outs: [i32(n)], call: ([x], [o]) => G.cast(x, o, n, DTYPE.float32, DTYPE.int32), tol: [EXACT] },
      { name: "cast i32->f32", shape: `${n}`, ins: [rand("int", n)], outs: [f32(n)], call: ([x], [o]) => G.cast(x, o, n, DTYPE.int32, DTYPE.float32), tol: [EXACT] },
      { name: "cast f32->bool", shape: `${n}`, ins: [rand("grid", n)], outs: [i32(n)], call: ([x], [o]) => G.cast(x, o, n, DTYPE.float32, DTYPE.bool), tol: [EXACT] },
    ];
    for (const [op, [kind, tol]] of Object.entries(UNARY_CASES)) {
      const alpha = op === "LeakyRelu" ? 0.2 : 0;
      const code = UNARY[op as keyof typeof UNARY];
      cases.push({ name: `unary ${op}`, shape: `${n}`, ins: [rand(kind, n)], outs: [f32(n)], call: ([x], [o]) => G.unary(code, x, o, n, alpha), tol: [tol] });
    }
    cases.push({ name: "unary LogicalNot", shape: `${n}`, ins: [rand("bool", n)], outs: [i32(n)], call: ([x], [o]) => G.unary(UNARY.LogicalNot, x, o, n, 0), tol: [EXACT] });
    return cases;
  },
};
