// The op codes JS passes to the addon, one list per op family, for both engines (csrc/engine
// implements a subset of each; csrc/cuda all of them). The TypeScript side is src/cuda/addon.ts
// (UNARY, BINARY, REDUCE, ACT): test/op_codes.test.ts parses the lists below and checks them
// against it, and the addon exports them as `opCodes` (binding.cc) so src/addon.ts refuses an
// addon built from other lists. Every C++ enum of these codes expands a list here, e.g.
//   enum Unary { DILEMMA_UNARY_OPS(DILEMMA_OP_ENUMERATOR) };
// Entries are X(Name, code); names as in the TypeScript tables except SqDiff (SquaredDifference)
// and the activations (TypeScript spells those in lower case).
#pragma once

#define DILEMMA_UNARY_OPS(X)                                                                     \
  X(Abs, 0) X(Exp, 1) X(Log, 2) X(Log1p, 3) X(Neg, 4) X(Relu, 5) X(Rsqrt, 6) X(Sqrt, 7) X(Square, 8) \
  X(Step, 9) X(Sigmoid, 10) X(Tanh, 11) X(Reciprocal, 12) X(Sign, 13) X(Floor, 14) X(Ceil, 15)   \
  X(Expm1, 16) X(LeakyRelu, 17) X(Relu6, 18) X(Softplus, 19) X(Erf, 20) X(Elu, 21) X(Round, 22)  \
  X(Sin, 23) X(Cos, 24) X(LogicalNot, 100)

#define DILEMMA_BINARY_OPS(X)                                                                     \
  X(Add, 0) X(Sub, 1) X(Mul, 2) X(Div, 3) X(Max, 4) X(Min, 5) X(SqDiff, 6) X(Pow, 7) X(FloorDiv, 8) \
  X(Mod, 9) X(Equal, 20) X(NotEqual, 21) X(Greater, 22) X(GreaterEqual, 23) X(Less, 24)           \
  X(LessEqual, 25) X(LogicalAnd, 30) X(LogicalOr, 31)

#define DILEMMA_REDUCE_OPS(X) \
  X(Sum, 0) X(Mean, 1) X(Max, 2) X(Min, 3) X(Prod, 4) X(ArgMax, 5) X(ArgMin, 6) X(Any, 7) X(All, 8)

/** Fused matMul activations (both engines' matMul). */
#define DILEMMA_ACT_OPS(X) X(Linear, 0) X(Relu, 1) X(Relu6, 2) X(Elu, 3) X(Sigmoid, 4) X(LeakyRelu, 5)

/** `kName = code,` */
#define DILEMMA_OP_ENUMERATOR(name, code) k##name = code,
/** `kActName = code,` (the cuda matMul's spelling). */
#define DILEMMA_ACT_ENUMERATOR(name, code) kAct##name = code,
/** `case code:` (a switch that accepts every code of a list). */
#define DILEMMA_OP_CASE(name, code) case code:
