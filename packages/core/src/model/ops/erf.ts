// Double-precision erf for the CPU kernels (Math has none; tfjs's Erf kernel is a 1e-7
// approximation). Relative error ~1e-15, so GELU matches the float64 reference to float32.

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

/** erf(x) for a double x. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)): positive terms, no cancellation.
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    return x < 0 ? -r : r;
  }
  if (ax > 6) return x < 0 ? -1 : 1; // erfc(6) ~ 2e-17
  // erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
  let t = ax;
  for (let n = 60; n >= 1; n--) t = ax + n / 2 / t;
  const erfc = (Math.exp(-ax * ax) * INV_SQRT_PI) / t;
  return x < 0 ? erfc - 1 : 1 - erfc;
}
