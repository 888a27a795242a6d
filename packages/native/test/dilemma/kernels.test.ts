// The tfjs kernels DilemmaEmbed / DilemmaEmbedGrad registered by registerDilemmaKernels run the
// native code through core's ops and autodiff, and give the same values as core's CPU kernels.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { DILEMMA_EMBED, DILEMMA_EMBED_GRAD, dilemmaEmbed, sampleDilemma } from "@dilemma/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerDilemmaKernels } from "../../src/dilemma/index.js";
import { dilemmaKernelsOrSkip, firstDiff, randomFloats } from "./util.js";

const available = dilemmaKernelsOrSkip("dilemma tfjs kernels");
const TEST_BACKEND = "dilemma-native-test";

/** Embedding + sum of squares, and its gradients w.r.t. tokens and posEmbed, on the active backend. */
function run(tok: Float32Array, pos: Float32Array, rp: Int32Array, ip: Int32Array, B: number, L: number, K: number, D: number) {
  const outs = tf.tidy(() => {
    const tokens = tf.tensor3d(tok, [B, L, D]);
    const posEmbed = tf.tensor2d(pos, [L, D]);
    const realPos = tf.tensor2d(rp, [B, K], "int32");
    const inputPos = tf.tensor2d(ip, [B, K], "int32");
    const out = dilemmaEmbed(tokens, posEmbed, realPos, inputPos);
    const f = (t: tf.Tensor, p: tf.Tensor) => tf.sum(tf.square(dilemmaEmbed(t as tf.Tensor3D, p as tf.Tensor2D, realPos, inputPos)));
    const [gTok, gPos] = tf.grads(f)([tokens, posEmbed]);
    return [out, gTok, gPos];
  });
  const vals = outs.map((t) => t.dataSync());  // outside tidy: it would walk typed arrays element by element
  tf.dispose(outs);
  return vals;
}

describe.skipIf(!available)("registerDilemmaKernels", () => {
  beforeAll(async () => {
    // A CPU-style backend with every cpu kernel except the two DILEMMA ones, which come from native.
    tf.registerBackend(TEST_BACKEND, () => new MathBackendCPU());
    for (const k of tf.getKernelsForBackend("cpu")) {
      if (k.kernelName !== DILEMMA_EMBED && k.kernelName !== DILEMMA_EMBED_GRAD) {
        tf.registerKernel({ ...k, backendName: TEST_BACKEND });
      }
    }
    registerDilemmaKernels(TEST_BACKEND);
    registerDilemmaKernels(TEST_BACKEND);  // idempotent
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
    tf.removeBackend(TEST_BACKEND);
  });

  it("forward and gradients equal core's cpu kernels", async () => {
    const [B, L, K, D] = [8, 49, 12, 20];
    const s = sampleDilemma({ batch: B, numPatches: L, tokenDrop: 1 - K / L, dilemmaProb: 0.3, rng: { seed: 5, counter: 2 } });
    const tok = randomFloats(B * L * D, 11);
    const pos = randomFloats(L * D, 12);
    await tf.setBackend("cpu");
    const ref = run(tok, pos, s.realPos, s.inputPos, B, L, K, D);
    await tf.setBackend(TEST_BACKEND);
    expect(tf.getKernel(DILEMMA_EMBED, TEST_BACKEND)).toBeDefined();
    const got = run(tok, pos, s.realPos, s.inputPos, B, L, K, D);
    for (let j = 0; j < 3; j++) expect(firstDiff(got[j], ref[j]), `output ${j}`).toBe(-1);
  });

  it("surfaces the native bounds error through the op", async () => {
    await tf.setBackend(TEST_BACKEND);
    const grad = tf.engine().runKernel(DILEMMA_EMBED_GRAD, {
      dy: tf.zeros([1, 2, 3]), realPos: tf.tensor2d([[0, 1]], [1, 2], "int32"), inputPos: tf.tensor2d([[0, 1]], [1, 2], "int32"),
    }, { numPatches: 4 }) as unknown as tf.Tensor[];
    expect(grad.map((t) => t.shape)).toEqual([[1, 4, 3], [4, 3]]);
    tf.dispose(grad);
    expect(() => tf.engine().runKernel(DILEMMA_EMBED, {
      tokens: tf.zeros([1, 4, 3]), posEmbed: tf.zeros([4, 3]),
      realPos: tf.tensor2d([[0, 4]], [1, 2], "int32"), inputPos: tf.tensor2d([[0, 1]], [1, 2], "int32"),
    })).toThrow("DilemmaEmbed: realPos[0,1]=4 out of [0, 4)");
  });
});
