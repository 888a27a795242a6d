// cudaDilemmaCheck (present when the addon was compiled with CUDA): without a GPU it must fail with
// "no CUDA device"; with one, every CUDA kernel must match its CPU reference on small shapes.
import { describe, expect, it } from "vitest";
import { addon } from "../../src/addon.js";
import { dilemmaAddon } from "../../src/dilemma/index.js";
import { dilemmaKernelsOrSkip } from "./util.js";

const available = dilemmaKernelsOrSkip("dilemma CUDA");
const a = available ? dilemmaAddon() : null;
const compiled = a !== null && typeof a.cudaDilemmaCheck === "function";
if (available && !compiled) console.warn("[dilemma CUDA] SKIPPED: addon built without CUDA (DILEMMA_CUDA=on npm run build:addon -w @dilemma/native)");
const devices = compiled ? (addon()!.info().cuda.devices) : 0;

describe.skipIf(!compiled)("cudaDilemmaCheck", () => {
  it.skipIf(devices > 0)("throws 'no CUDA device' on a machine without a GPU", () => {
    expect(() => a!.cudaDilemmaCheck!({ B: 2, L: 8, K: 4, D: 8 })).toThrow(/^no CUDA device/);
  });

  it.skipIf(devices === 0)("every CUDA kernel matches the CPU reference (sparse, dense odd, D % 4 != 0)", () => {
    for (const s of [{ B: 4, L: 16, K: 4, D: 8 }, { B: 3, L: 17, K: 17, D: 6 }, { B: 16, L: 49, K: 12, D: 64 }]) {
      const r = a!.cudaDilemmaCheck!({ ...s, p: 0.3, seed: 9, step: 1, reps: 3 });
      expect(r.boundsErrorDetected).toBe(true);
      for (const row of r.rows) expect(row.mismatches, `${row.kernel} at ${JSON.stringify(s)}`).toBe(0);
    }
  });
});
