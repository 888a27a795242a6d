// In Node, tfjs-backend-cpu greets its first tensor with a banner recommending tfjs-node; for
// users of @dilemma/core that advice is wrong (@dilemma/native is the fast engine) and it is noise
// in their programs. tfjs's PROD flag only gates tfjs's own console.log / console.warn (tfjs-core
// 4.22: log.ts, environment.ts), so setting it on import silences exactly tfjs's messages.
// DILEMMA_TFJS_WARNINGS=1 keeps them. Browsers get no banner and are left alone.
import * as tf from "@tensorflow/tfjs-core";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
if (env && tf.env().getBool("IS_NODE") && env.DILEMMA_TFJS_WARNINGS !== "1") tf.env().set("PROD", true);
