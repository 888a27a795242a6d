// `train --init <file>`: a new run's encoder starts from safetensors weights under timm names
// (our export's model.safetensors, or a timm / PyTorch ViT state dict of the same architecture).
// The momentum encoder / teacher starts as the same copy, as it does from a random init.
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { decodeSafetensors, timmEncoderWeights, type NamedTensors, type SSLMethod, type TimmEncoderWeights } from "@dilemma/core";
import { UsageError } from "./args.js";

const ENCODERS = ["base_encoder.", "momentum_encoder."];
const HEAD = ["dilemma_head.weight", "dilemma_head.bias"];

/** Sets `method`'s encoders (and its detection head when the file has a fitting one) from `file`. */
export function initFromSafetensors(method: SSLMethod, file: string): { tensors: number; message: string } {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new UsageError(`--init ${file}: no such file; give a .safetensors file (e.g. the model.safetensors of dilemma-cli export)`);
  }
  const current = method.getWeights();
  // The encoder's own names and shapes: base_encoder.* without the projector (base_encoder.head.*).
  const expected: Record<string, number[]> = {};
  for (const [n, t] of Object.entries(current)) {
    if (n.startsWith("base_encoder.") && !n.startsWith("base_encoder.head.")) expected[n.slice("base_encoder.".length)] = t.shape;
  }
  let source: NamedTensors = {};
  let found: TimmEncoderWeights;
  try {
    source = decodeSafetensors(fs.readFileSync(file)).tensors;
    found = timmEncoderWeights(source, expected);
  } catch (e) {
    tf.dispose(Object.values(source));
    throw new UsageError(`--init ${file}: ${(e as Error).message}`);
  }
  try {
    const target: NamedTensors = {};
    for (const [n, t] of Object.entries(found.weights)) for (const p of ENCODERS) if (p + n in current) target[p + n] = t;
    const head = HEAD.every((n) => {
      const t = source[found.prefix + n];
      return current[n] && t && t.dtype === "float32" && tf.util.arraysEqual(t.shape, current[n].shape);
    });
    if (head) for (const n of HEAD) target[n] = source[found.prefix + n];
    method.setWeights(target, { partial: true });
    const unused = found.unused.filter((n) => !(head && HEAD.includes(n.slice(found.prefix.length))));
    const count = Object.keys(found.weights).length + (head ? HEAD.length : 0);
    const message = `${file}: encoder (${Object.keys(found.weights).length} tensors${found.prefix ? ` under "${found.prefix}"` : ""})` +
      (head ? " and detection head" : "") +
      (found.foldedClsPos ? "; the cls token's positional embedding folded into cls_token" : "") +
      (unused.length ? `; unused: ${unused.slice(0, 4).join(", ")}${unused.length > 4 ? `, ... (${unused.length})` : ""}` : "");
    return { tensors: count, message };
  } finally {
    tf.dispose([...Object.values(found.weights), ...Object.values(source)]);
  }
}
