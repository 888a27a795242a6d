/** The DILEMMA sampler of docs/sampling.md in C++: same draws as core's sampleDilemma, bit for bit. */
import { numKept, type DilemmaSample } from "@dilemma/core";
import { dilemmaAddon } from "./addon.js";

/** Arguments of {@link sampleDilemmaNative}; `seed`/`step` as core's RngState seed / counter. */
export interface SampleDilemmaNativeArgs {
  batch: number;
  numPatches: number;
  /** Fraction of patches dropped: K = floor(L * (1 - tokenDrop)), >= 1. */
  tokenDrop: number;
  /** Probability a kept token gets a wrong position. */
  dilemmaProb: number;
  /** Non-negative safe integer (Philox key: low / high 32 bits). */
  seed: number;
  /** uint32 draw counter. */
  step: number;
}

/**
 * Draws realPos / inputPos / labels for a batch with the native sampler. Equals
 * `sampleDilemma({ ..., rng: { seed, counter: step } })` of @dilemma/core (which also advances the counter).
 * @throws Error when the addon is unavailable or an argument is out of range.
 */
export function sampleDilemmaNative(args: SampleDilemmaNativeArgs): DilemmaSample {
  const { batch, numPatches, tokenDrop, dilemmaProb, seed, step } = args;
  // Same argument rules and messages as core's sampleDilemma.
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(numPatches) || numPatches < 1) {
    throw new Error(`sampleDilemmaNative: batch and numPatches must be positive integers, got ${batch} and ${numPatches}`);
  }
  if (!(dilemmaProb >= 0 && dilemmaProb <= 1)) throw new Error(`sampleDilemmaNative: dilemmaProb must be in [0, 1], got ${dilemmaProb}`);
  const K = numKept(numPatches, tokenDrop);
  const s = dilemmaAddon().dilemmaSample(seed, step, batch, numPatches, K, dilemmaProb);
  return { batch, numPatches, numKept: K, realPos: s.realPos, inputPos: s.inputPos, labels: s.labels };
}
