// The statistics behind a study's verdicts, against values from scipy.stats (see comments).
import { describe, expect, it } from "vitest";
import { mean, std, tCdf, tQuantile, verdict, welchInterval } from "../src/study/stats.js";

describe("study statistics", () => {
  it("t quantiles match scipy.stats.t.ppf(0.975, df), real df included", () => {
    // scipy 1.x: t.ppf(0.975, df)
    const ref: [number, number][] = [[1, 12.706204736432095], [2, 4.302652729911275], [3.5, 2.9400886379827775], [4, 2.7764451051977987],
      [7.3, 2.345066736150929], [10, 2.2281388519649385], [30, 2.0422724563012373]];
    for (const [df, t] of ref) expect(tQuantile(0.975, df), `df ${df}`).toBeCloseTo(t, 7);
    expect(tQuantile(0.025, 4)).toBeCloseTo(-2.7764451051977987, 7);
    expect(tQuantile(0.5, 3)).toBe(0);
    // scipy: t.cdf(1.5, 3.7), t.cdf(-2.0, 7.3)
    expect(tCdf(1.5, 3.7)).toBeCloseTo(0.8932009153989934, 9);
    expect(tCdf(-2.0, 7.3)).toBeCloseTo(0.04197051966705152, 9);
    expect(() => tQuantile(1, 3)).toThrow(/p must be in/);
    expect(() => tQuantile(0.9, 0)).toThrow(/df must be > 0/);
  });

  it("mean and sample std", () => {
    expect(mean([0.5, 0.52, 0.54])).toBeCloseTo(0.52, 12);
    expect(std([0.5, 0.52, 0.54])).toBeCloseTo(0.02, 12);
    expect(std([0.6, 0.61, 0.65])).toBeCloseTo(Math.sqrt(0.0007), 12);
    expect(std([1])).toBeNaN();
    expect(mean([])).toBeNaN();
  });

  it("Welch interval of a hand-computed example", () => {
    // a: mean .52, s² .0004; b: mean .62, s² .0007; n = 3 each.
    // se² = .0004/3 + .0007/3 = .00036667; df = se⁴ / ((.0004/3)²/2 + (.0007/3)²/2) = 3.7230769
    // t.ppf(.975, 3.7230769) = 2.8598170; CI = .1 ± 2.8598170 * .0191485 (scipy ttest_ind agrees).
    const ci = welchInterval([0.5, 0.52, 0.54], [0.6, 0.61, 0.65])!;
    expect(ci.diff).toBeCloseTo(0.1, 12);
    expect(ci.df).toBeCloseTo(3.723076923076923, 9);
    expect(ci.se).toBeCloseTo(Math.sqrt(0.0011 / 3), 12);
    expect(ci.lo).toBeCloseTo(0.045238672699934854, 7);
    expect(ci.hi).toBeCloseTo(0.1547613273000651, 7);
    // Symmetric: swapping the groups negates the interval.
    const back = welchInterval([0.6, 0.61, 0.65], [0.5, 0.52, 0.54])!;
    expect(back.lo).toBeCloseTo(-ci.hi, 9);
    expect(back.hi).toBeCloseTo(-ci.lo, 9);
  });

  it("no interval with fewer than two seeds per arm or no spread at all", () => {
    expect(welchInterval([0.5], [0.6, 0.7])).toBeNull();
    expect(welchInterval([0.5, 0.5], [0.6, 0.6])).toBeNull();
    // One arm without spread still has an interval (the other arm's variance).
    expect(welchInterval([0.5, 0.5], [0.6, 0.7])).not.toBeNull();
  });

  it("verdict: above 0 reproduced, below 0 not reproduced, spanning 0 or none inconclusive", () => {
    expect(verdict({ lo: 0.001, hi: 0.2 })).toBe("reproduced");
    expect(verdict({ lo: -0.2, hi: -0.01 })).toBe("not reproduced");
    expect(verdict({ lo: -0.1, hi: 0.1 })).toBe("inconclusive");
    expect(verdict({ lo: 0, hi: 0.1 })).toBe("inconclusive");
    expect(verdict(null)).toBe("inconclusive");
  });
});
