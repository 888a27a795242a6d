// Small helpers shared by the train modules.
import * as tf from "@tensorflow/tfjs-core";

/** A variable initialised from `init`, which is then released (tf.variable alone keeps it alive). */
export function variableFrom(init: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}
