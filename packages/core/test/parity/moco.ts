// Parity: MoCo v3 (+ DILEMMA) forward, losses and gradients against the float64 PyTorch
// reference (fixture kind "moco"), through the same lossAndGrads the training step uses.
import * as tf from "@tensorflow/tfjs-core";
import { expect } from "vitest";
import type { NamedTensors } from "../../src/api.js";
import { defaultMethodConfig } from "../../src/train/create.js";
import { MoCoV3 } from "../../src/train/mocov3.js";
import type { ViewPositions } from "../../src/train/method.js";
import { expectCloseToFixture } from "../train/helpers.js";
import { vitConfigOf, type FixtureCase } from "../util/fixtures.js";
import { registerKind } from "./index.js";

function configOf(c: FixtureCase) {
  const { vit, moco, seed } = c.manifest.config;
  return defaultMethodConfig({
    method: "mocov3",
    vit: vitConfigOf(vit),
    tokenDrop: moco.token_drop_rate, dilemmaProb: moco.dilemma_probability, dilemmaWeight: moco.dilemma_lambda,
    headHidden: moco.mlp_dim, headOut: moco.dim, temperature: moco.T, seed,
  });
}

function runMoco(c: FixtureCase): void {
  const model = new MoCoV3(configOf(c));
  const params: NamedTensors = {};
  for (const n of c.names) if (!/^(input|expected|grad)\//.test(n)) params[n] = c.tensor(n);
  // every trainable parameter and the whole momentum encoder come from the fixture
  const missing = [...model.allVariables().keys()].filter((n) => !(n in params) && !/running_(mean|var)$/.test(n));
  expect(missing, `${c.name}: parameters without a fixture value`).toEqual([]);
  model.setWeights(params, { partial: true }); // BN running stats are not part of the fixtures

  const view = (v: 1 | 2): ViewPositions | undefined => c.has(`input/real_pos${v}`)
    ? { realPos: c.tensor(`input/real_pos${v}`) as tf.Tensor2D, inputPos: c.tensor(`input/input_pos${v}`) as tf.Tensor2D, labels: c.tensor(`input/labels${v}`) as tf.Tensor2D }
    : undefined;
  const x1 = c.tensor("input/x1") as tf.Tensor4D;
  const x2 = c.tensor("input/x2") as tf.Tensor4D;
  const v1 = view(1);
  const v2 = view(2);
  const { out, grads } = model.lossAndGrads([x1, x2], [v1, v2]);

  const check = (name: string, t: tf.Tensor | undefined) => {
    expect(t, `${c.name}: no output for ${name}`).toBeDefined();
    expectCloseToFixture(c, name, t!);
  };
  for (const k of ["q1", "q2", "k1", "k2"] as const) check(`expected/${k}`, out[k]);
  check("expected/con_loss", out.conLoss);
  check("expected/loss", out.loss);
  if (c.has("expected/dilemma_loss1")) {
    check("expected/dilemma_loss1", out.dilemmaLoss1);
    check("expected/dilemma_loss2", out.dilemmaLoss2);
    check("expected/dilemma_logits1", out.dilemmaLogits[0]);
    check("expected/dilemma_logits2", out.dilemmaLogits[1]);
  } else {
    expect(out.dilemmaLoss, `${c.name}: plain MoCo v3 must have no detection loss`).toBeUndefined();
  }
  const gradNames = c.names.filter((n) => n.startsWith("grad/")).map((n) => n.slice("grad/".length));
  expect([...grads.keys()].sort(), `${c.name}: gradient set`).toEqual([...gradNames].sort());
  for (const n of gradNames) check(`grad/${n}`, grads.get(n));

  tf.dispose([x1, x2, ...Object.values(params), ...[v1, v2].flatMap((v) => (v ? Object.values(v) : []))]);
  tf.dispose(out as unknown as tf.TensorContainer);
  tf.dispose([...grads.values()]);
  model.dispose();
}

export function register(): void {
  registerKind("moco", runMoco);
}
