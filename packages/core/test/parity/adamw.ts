// Parity: one AdamW step against torch.optim.AdamW (fixture kind "adamw").
import * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "../../src/train/adamw.js";
import type { NamedTensors } from "../../src/api.js";
import { expectCloseToFixture } from "../train/helpers.js";
import type { FixtureCase } from "../util/fixtures.js";
import { registerKind } from "./index.js";

function runAdamW(c: FixtureCase): void {
  const cfg = c.manifest.config;
  const names: string[] = cfg.param_names;
  const opts = {
    lr: cfg.lr, betas: cfg.betas as [number, number], eps: cfg.eps, weightDecay: cfg.weight_decay,
    decay: () => true, // the fixture is one torch param group: every tensor is decayed
  };
  const fresh = () => new Map(names.map((n) => [n, tf.variable(c.tensor(n), true)] as const));
  const grads = new Map(names.map((n) => [n, c.tensor(`grad/${n}`)] as const));

  // resumed: the given state at step_before, then one step
  const params = fresh();
  const opt = new AdamW(params, opts);
  const state: NamedTensors = {};
  for (const n of names) {
    state[`exp_avg/${n}`] = c.tensor(`input/exp_avg/${n}`);
    state[`exp_avg_sq/${n}`] = c.tensor(`input/exp_avg_sq/${n}`);
  }
  opt.setState({ step: cfg.step_before, tensors: state });
  opt.apply(grads);
  const after = opt.getState();
  for (const n of names) {
    expectCloseToFixture(c, `expected/${n}`, params.get(n)!);
    expectCloseToFixture(c, `expected/exp_avg/${n}`, after.tensors[`exp_avg/${n}`]);
    expectCloseToFixture(c, `expected/exp_avg_sq/${n}`, after.tensors[`exp_avg_sq/${n}`]);
  }
  if (after.step !== cfg.step_before + 1) throw new Error(`step ${after.step} != ${cfg.step_before + 1}`);

  // fresh state: the first step (t = 1)
  const params1 = fresh();
  const opt1 = new AdamW(params1, opts);
  opt1.apply(grads);
  for (const n of names) expectCloseToFixture(c, `expected/first_step/${n}`, params1.get(n)!);

  for (const t of [...Object.values(state), ...grads.values()]) t.dispose();
  for (const p of [...params.values(), ...params1.values()]) p.dispose();
  opt.dispose();
  opt1.dispose();
}

export function register(): void {
  registerKind("adamw", runAdamW);
}
