// Data movement: the attention layout changes (transpose) and slices / the cls concat (strided
// copy). Exact: elements are moved, never computed. Byte model: the default.
import { EXACT, f32, H, HD, KEPT, size, tokens, D, type Family } from "../case.js";

export const transpose: Family = {
  name: "transpose",
  cases({ G, rand, B }) {
    const T = tokens(B), n = T * D;
    const qkv = [B, KEPT + 1, 3, H, HD], heads = [B, H, KEPT + 1, HD];
    return [
      { name: "transpose qkv", shape: qkv.join("x"), ins: [rand("normal", size(qkv))], outs: [f32(size(qkv))],
        call: ([x], [o]) => G.transpose(x, o, qkv, [2, 0, 3, 1, 4]), tol: [EXACT] },
      { name: "transpose heads", shape: heads.join("x"), ins: [rand("normal", n)], outs: [f32(n)],
        call: ([x], [o]) => G.transpose(x, o, heads, [0, 2, 1, 3]), tol: [EXACT] },
      { name: "stridedCopy q of qkv", shape: `${T}x${D}`, ins: [rand("normal", T * 3 * D)], outs: [f32(n)],
        call: ([x], [o]) => G.stridedCopy(x, o, [T, D], D, [3 * D, 1], 0, [D, 1]), tol: [EXACT] },
      // into the middle of an existing buffer: the rest of `out` is initialised (same on both sides)
      { name: "stridedCopy cls concat", shape: `${B}x${KEPT}x${D}`, ins: [rand("normal", B * KEPT * D)], outs: [f32(n)], initOut: true,
        call: ([x], [o]) => G.stridedCopy(x, o, [B, KEPT, D], 0, [KEPT * D, D, 1], D, [(KEPT + 1) * D, D, 1]), tol: [EXACT] },
    ];
  },
};
