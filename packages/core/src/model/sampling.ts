// DILEMMA position sampling (docs/sampling.md): which patches a view keeps (realPos) and which
// positional embedding each kept token receives (inputPos), with the corruption labels.
import * as tf from "@tensorflow/tfjs-core";
import type { DilemmaSample, RngState } from "../api.js";
import { philoxUniforms } from "./philox.js";

/** Kept tokens K = floor(L * (1 - tokenDrop)) (Python `int()`); throws when K < 1. */
export function numKept(numPatches: number, tokenDrop: number): number {
  if (!(tokenDrop >= 0 && tokenDrop < 1)) {
    throw new Error(`tokenDrop must be in [0, 1), got ${tokenDrop}`);
  }
  const k = Math.floor(numPatches * (1 - tokenDrop));
  if (k < 1) {
    throw new Error(`tokenDrop=${tokenDrop} keeps no patch of ${numPatches}; lower tokenDrop so that floor(L*(1-tokenDrop)) >= 1`);
  }
  return k;
}

/**
 * The deterministic part of a draw: given `noise` [B, L] and `labelRand` [B, K] (row-major
 * uniforms), positions as in the PyTorch reference. `idsShuffle` is the stable ascending
 * argsort of each noise row (ties: lower index first).
 */
export function dilemmaPositions(
  noise: ArrayLike<number>, labelRand: ArrayLike<number>,
  batch: number, numPatches: number, numKept: number, dilemmaProb: number,
): DilemmaSample & { idsShuffle: Int32Array } {
  const B = batch, L = numPatches, K = numKept;
  if (K < 1 || K > L) throw new Error(`numKept must be in [1, ${L}], got ${K}`);
  if (noise.length !== B * L) throw new Error(`noise has ${noise.length} values, expected B*L = ${B * L}`);
  if (labelRand.length !== B * K) throw new Error(`labelRand has ${labelRand.length} values, expected B*K = ${B * K}`);
  const idsShuffle = new Int32Array(B * L);
  const realPos = new Int32Array(B * K);
  const inputPos = new Int32Array(B * K);
  const labels = new Float32Array(B * K);
  const order = new Array<number>(L);
  for (let b = 0; b < B; b++) {
    const base = b * L;
    for (let l = 0; l < L; l++) order[l] = l;
    // Array.prototype.sort is stable (ES2019), and the comparator only compares values,
    // so equal noise keeps the lower index first.
    order.sort((i, j) => noise[base + i] - noise[base + j]);
    for (let l = 0; l < L; l++) idsShuffle[base + l] = order[l];
    for (let i = 0; i < K; i++) {
      const real = order[i];
      const corrupt = K < L ? order[L - K + i] : order[L - 1 - i];
      const label = labelRand[b * K + i] < dilemmaProb ? 1 : 0;
      realPos[b * K + i] = real;
      inputPos[b * K + i] = label ? corrupt : real;
      labels[b * K + i] = label;
    }
  }
  return { batch: B, numPatches: L, numKept: K, realPos, inputPos, labels, idsShuffle };
}

/**
 * Draws a DILEMMA sample with Philox at step `rng.counter`, then advances `rng.counter` by one
 * so the next call draws fresh numbers.
 */
export function sampleDilemma(args: {
  batch: number; numPatches: number; tokenDrop: number; dilemmaProb: number; rng: RngState;
}): DilemmaSample {
  const { batch: B, numPatches: L, tokenDrop, dilemmaProb, rng } = args;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(L) || L < 1) {
    throw new Error(`sampleDilemma: batch and numPatches must be positive integers, got ${B} and ${L}`);
  }
  if (!(dilemmaProb >= 0 && dilemmaProb <= 1)) throw new Error(`sampleDilemma: dilemmaProb must be in [0, 1], got ${dilemmaProb}`);
  const step = rng.counter;
  if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) {
    throw new Error(`rng.counter must be a uint32, got ${step}`);
  }
  const K = numKept(L, tokenDrop);
  const noise = new Float64Array(B * L);
  const labelRand = new Float64Array(B * K);
  for (let b = 0; b < B; b++) {
    noise.set(philoxUniforms(rng.seed, step, 0, b, L), b * L);
    labelRand.set(philoxUniforms(rng.seed, step, 1, b, K), b * K);
  }
  rng.counter = step + 1;
  const { idsShuffle: _ids, ...sample } = dilemmaPositions(noise, labelRand, B, L, K, dilemmaProb);
  return sample;
}

/** The sample as tensors (caller disposes): realPos / inputPos int32 [B, K], labels float32 [B, K]. */
export function sampleToTensors(s: DilemmaSample): { realPos: tf.Tensor2D; inputPos: tf.Tensor2D; labels: tf.Tensor2D } {
  const shape: [number, number] = [s.batch, s.numKept];
  return {
    realPos: tf.tensor2d(s.realPos, shape, "int32"),
    inputPos: tf.tensor2d(s.inputPos, shape, "int32"),
    labels: tf.tensor2d(s.labels, shape, "float32"),
  };
}
