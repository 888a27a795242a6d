// Parity: DINO loss, center update and the student gradient (fixture kind "dino").
import * as tf from "@tensorflow/tfjs-core";
import { dinoCenterUpdate, dinoLoss } from "../../src/train/losses.js";
import { expectCloseToFixture } from "../train/helpers.js";
import type { FixtureCase } from "../util/fixtures.js";
import { registerKind } from "./index.js";

function runDino(c: FixtureCase): void {
  const cfg = c.manifest.config;
  const student = c.tensor("input/student") as tf.Tensor2D;
  const teacher = c.tensor("input/teacher") as tf.Tensor2D;
  const center = c.tensor("input/center");
  const opts = { nCrops: cfg.n_crops, nGlobal: cfg.n_global_crops, studentTemp: cfg.student_temp, teacherTemp: cfg.teacher_temp };
  const { value, grad } = tf.valueAndGrad((s: tf.Tensor) => dinoLoss(s as tf.Tensor2D, teacher, center, opts))(student);
  expectCloseToFixture(c, "expected/loss", value);
  expectCloseToFixture(c, "grad/input/student", grad);
  const newCenter = dinoCenterUpdate(center, teacher, cfg.center_momentum);
  expectCloseToFixture(c, "expected/center", newCenter);
  tf.dispose([student, teacher, center, value, grad, newCenter]);
}

export function register(): void {
  registerKind("dino", runDino);
}
