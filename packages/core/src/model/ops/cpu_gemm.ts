// A plain strided matrix product for the CPU kernels of the fused ops (FusedAttention,
// FusedMlp). Sums in double, so the cpu kernels are a tighter reference than float32 BLAS.

/** A matrix view: element (i, j) is data[off + i * rs + j * cs] (any transposition, any slice). */
export interface MatView {
  data: Float32Array;
  off: number;
  rs: number;
  cs: number;
}

/** View of row-major `rows x cols` data at `off` with leading dimension `ld` (default: cols). */
export function rowMajor(data: Float32Array, off: number, ld: number): MatView {
  return { data, off, rs: ld, cs: 1 };
}

/** The transpose of a view (no copy). */
export function transposed(v: MatView): MatView {
  return { data: v.data, off: v.off, rs: v.cs, cs: v.rs };
}

/** c = a * b for a (M x K), b (K x N), c (M x N) views; `accumulate` adds to c instead. */
export function gemm(M: number, N: number, K: number, a: MatView, b: MatView, c: MatView, accumulate = false): void {
  const { data: ad, rs: ars, cs: acs } = a;
  const { data: bd, rs: brs, cs: bcs } = b;
  if (bcs !== 1 && acs === 1 && brs === 1) {
    // b is a transposed row-major matrix (x W^T): dot products of contiguous rows.
    for (let i = 0; i < M; i++) {
      const ai = a.off + i * ars;
      const ci = c.off + i * c.rs;
      for (let j = 0; j < N; j++) {
        const bj = b.off + j * bcs;
        let s = 0;
        for (let k = 0; k < K; k++) s += ad[ai + k] * bd[bj + k];
        if (accumulate) c.data[ci + j * c.cs] += s;
        else c.data[ci + j * c.cs] = s;
      }
    }
    return;
  }
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    const ai = a.off + i * ars;
    for (let k = 0; k < K; k++) {
      const av = ad[ai + k * acs];
      const bk = b.off + k * brs;
      for (let j = 0; j < N; j++) acc[j] += av * bd[bk + j * bcs];
    }
    const ci = c.off + i * c.rs;
    if (accumulate) for (let j = 0; j < N; j++) c.data[ci + j * c.cs] += acc[j];
    else for (let j = 0; j < N; j++) c.data[ci + j * c.cs] = acc[j];
  }
}

/** y[r, :] = x[r, :] W^T + bias for x [rows, in], W [out, in] (PyTorch layout), bias [out]. */
export function linearRows(x: Float32Array, w: Float32Array, bias: Float32Array | null, rows: number, inF: number, outF: number): Float32Array {
  const y = new Float32Array(rows * outF);
  gemm(rows, outF, inF, rowMajor(x, 0, inF), transposed(rowMajor(w, 0, inF)), rowMajor(y, 0, outF));
  if (bias) for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) y[r * outF + j] += bias[j];
  return y;
}

/** Column sums of row-major x [rows, cols], in double. */
export function columnSums(x: Float32Array, rows: number, cols: number): Float32Array {
  const s = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) s[j] += x[r * cols + j];
  return Float32Array.from(s);
}
