// Tests that fail on each defect of the published PyTorch code:
//  1. the baseline path (no DILEMMA) crashed on a missing return;
//  2. the sparse path never passed positions to the encoder;
//  3. the dense path trained the head on corruptions the encoder never saw.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import {
  DetectionHead, MethodBase, ViT, bceWithLogits, createMethod, defaultMethodConfig, sampleDilemma, sampleToTensors,
  type MethodName, type ViTConfig,
} from "../../src/index.js";

const cfg: ViTConfig = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2 };
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** A ViT whose positional embeddings matter (the 0.02-std init makes position effects tiny). */
function model(seed = 1): { vit: ViT; head: DetectionHead } {
  const vit = new ViT(cfg, { seed });
  tf.tidy(() => vit.params.get("pos_embed")!.assign(tf.randomNormal([1, 16, 16], 0, 1, "float32", seed)));
  return { vit, head: new DetectionHead(16, { seed }) };
}

const image = (b: number) => tf.randomNormal([b, 3, 16, 16], 0, 1, "float32", 42) as tf.Tensor4D;

describe("published defect 1: the baseline path (dilemmaProb 0) returns a loss", () => {
  it("model level: p = 0 gives no corruption and a finite detection loss", () => {
    const { vit, head } = model();
    tf.tidy(() => {
      const s = sampleDilemma({ batch: 2, numPatches: 16, tokenDrop: 0.5, dilemmaProb: 0, rng: { seed: 1, counter: 0 } });
      expect(Array.from(s.inputPos)).toEqual(Array.from(s.realPos));
      const { realPos, inputPos, labels } = sampleToTensors(s);
      const loss = bceWithLogits(head.logits(vit.forward(image(2), { realPos, inputPos }).patches), labels).dataSync()[0];
      expect(Number.isFinite(loss)).toBe(true);
    });
    vit.dispose();
    head.dispose();
  });

  for (const method of ["mocov3", "simclr", "dino"] as MethodName[]) {
    it(`${method}: trainStep with dilemmaProb 0 (dense and sparse) returns a finite loss`, () => {
      for (const tokenDrop of [0, 0.5]) {
        const m = createMethod(defaultMethodConfig({ method, vit: cfg, tokenDrop, dilemmaProb: 0, headHidden: 16, headOut: 8, optim: { totalSteps: 2, warmupSteps: 0 } }));
        const views = [image(4), tf.reverse(image(4), 3) as tf.Tensor4D];
        const r = m.trainStep(views, 0, { seed: 1, counter: 0 });
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(r.dilemmaLoss).toBe(0);
        tf.dispose(views);
        m.dispose();
      }
    });
  }
});

describe("published defect 2: the sparse path passes positions to the encoder", () => {
  it("yields K tokens, and the encoder output changes when only inputPos changes", () => {
    const { vit, head } = model(2);
    tf.tidy(() => {
      const s = sampleDilemma({ batch: 2, numPatches: 16, tokenDrop: 0.5, dilemmaProb: 0.5, rng: { seed: 3, counter: 0 } });
      const { realPos, inputPos, labels } = sampleToTensors(s);
      expect(s.labels.some((v) => v === 1)).toBe(true);
      const img = image(2);
      const corrupted = vit.forward(img, { realPos, inputPos });
      expect(corrupted.tokens.shape).toEqual([2, 1 + 8, 16]);
      const clean = vit.forward(img, { realPos, inputPos: realPos });
      expect(maxDiff(corrupted.patches, clean.patches)).toBeGreaterThan(1e-3);
      // The detection loss depends on which positions the corrupted tokens got.
      const loss = (ip: tf.Tensor2D) => bceWithLogits(head.logits(vit.forward(img, { realPos, inputPos: ip }).patches), labels).dataSync()[0];
      expect(Math.abs(loss(inputPos) - loss(realPos))).toBeGreaterThan(1e-6);
      // ... and only through the positions: the kept content is the same (realPos).
      const otherContent = tf.reverse(realPos, 1) as tf.Tensor2D;
      expect(maxDiff(vit.forward(img, { realPos: otherContent, inputPos }).cls, corrupted.cls)).toBeGreaterThan(1e-3);
    });
    vit.dispose();
    head.dispose();
  });

  it("sparse position gradients reach only the positional embeddings that were used", () => {
    const { vit, head } = model(3);
    tf.tidy(() => {
      const s = sampleDilemma({ batch: 1, numPatches: 16, tokenDrop: 0.75, dilemmaProb: 0.5, rng: { seed: 4, counter: 0 } });
      const { realPos, inputPos, labels } = sampleToTensors(s);
      const pos = vit.params.get("pos_embed")!;
      const f = (_p: tf.Tensor) => bceWithLogits(head.logits(vit.forward(image(1), { realPos, inputPos }).patches), labels);
      const g = tf.grad(f)(pos).arraySync() as number[][][];
      const used = new Set(s.inputPos);
      expect(used).not.toEqual(new Set(s.realPos));
      for (let l = 0; l < 16; l++) {
        const norm = Math.max(...g[0][l].map(Math.abs));
        if (used.has(l)) expect(norm, `row ${l}`).toBeGreaterThan(0);
        else expect(norm, `row ${l}`).toBe(0);
      }
    });
    vit.dispose();
    head.dispose();
  });
});

describe("published defect 3: on the dense path the head is trained on corruptions the encoder received", () => {
  it("model level: the dense view's embedding uses inputPos exactly where labels are 1", () => {
    const { vit } = model(4);
    tf.tidy(() => {
      const s = sampleDilemma({ batch: 2, numPatches: 16, tokenDrop: 0, dilemmaProb: 0.4, rng: { seed: 5, counter: 0 } });
      const { realPos, inputPos } = sampleToTensors(s);
      const img = image(2);
      const patches = vit.patchEmbed(img).arraySync();
      const pos = (vit.params.get("pos_embed")!.arraySync() as number[][][])[0];
      const embed = vit.embed(img, { realPos, inputPos }).arraySync();
      let corrupted = 0;
      for (let b = 0; b < 2; b++) for (let i = 0; i < 16; i++) {
        const j = b * 16 + i;
        const want = patches[b][s.realPos[j]].map((v, d) => v + pos[s.inputPos[j]][d]);
        embed[b][i].forEach((v, d) => expect(v).toBeCloseTo(want[d], 5));
        if (s.labels[j] === 1 && s.inputPos[j] !== s.realPos[j]) {
          corrupted++;
          const clean = patches[b][s.realPos[j]].map((v, d) => v + pos[s.realPos[j]][d]);
          expect(Math.max(...clean.map((v, d) => Math.abs(v - embed[b][i][d])))).toBeGreaterThan(1e-2);
        }
      }
      expect(corrupted).toBeGreaterThan(0);
    });
    vit.dispose();
  });

  it("method level: the dense DILEMMA loss depends on the corruption the labels describe", () => {
    const m = createMethod(defaultMethodConfig({ vit: cfg, tokenDrop: 0, dilemmaProb: 0.5, headHidden: 16, headOut: 8 })) as MethodBase;
    tf.tidy(() => m.encoder.params.get("pos_embed")!.assign(tf.randomNormal([1, 16, 16], 0, 1, "float32", 6)));
    tf.tidy(() => {
      const views = [image(4), tf.reverse(image(4), 3) as tf.Tensor4D];
      const positions = views.map((v, k) => {
        const s = sampleDilemma({ batch: 4, numPatches: 16, tokenDrop: 0, dilemmaProb: 0.5, rng: { seed: 7, counter: k } });
        return sampleToTensors(s);
      });
      const uncorrupted = positions.map((p) => ({ ...p, inputPos: p.realPos }));
      const a = m.lossAndGrads(views, positions, 0).out.dilemmaLoss!.dataSync()[0];
      const b = m.lossAndGrads(views, uncorrupted, 0).out.dilemmaLoss!.dataSync()[0];
      // With the published bug the encoder sees the same (uncorrupted) input either way.
      expect(Math.abs(a - b)).toBeGreaterThan(1e-6);
    });
    m.dispose();
  });
});
