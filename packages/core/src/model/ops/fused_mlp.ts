// FusedMlp (docs/ops.md): the MLP of a ViT block as one op,
//   pre = x W1^T + b1, act = GELU_erf(pre), out = act W2^T + b2,
// over the last axis of x. The kernel also returns pre and act; the gradient reuses them
// (no second erf pass, no recomputed fc1).
import * as tf from "@tensorflow/tfjs-core";
import { erf } from "./erf.js";
import { cpuOutput, cpuValues, hasKernel, registerCpuKernel } from "./kernel_util.js";
import { linearRows } from "./cpu_gemm.js";
import { fusedMlpGrad } from "./fused_mlp_grad.js";
import { geluErf } from "./gelu_erf.js";

export const FUSED_MLP = "FusedMlp";

/** The MLP weights in PyTorch layout (timm `Mlp`: fc1 [hidden, D], fc2 [D, hidden]). */
export interface MlpParams {
  fc1W: tf.Tensor2D;
  fc1B: tf.Tensor1D;
  fc2W: tf.Tensor2D;
  fc2B: tf.Tensor1D;
}

function checkShapes(x: tf.Tensor, p: MlpParams): void {
  const op = FUSED_MLP;
  if (x.rank < 2 || x.dtype !== "float32") throw new Error(`${op}: x must be float32 [..., D], got ${x.dtype} [${x.shape}]`);
  const D = x.shape[x.rank - 1];
  const Hd = p.fc1W.shape[0];
  const want: [string, tf.Tensor, number[]][] = [["fc1W", p.fc1W, [Hd, D]], ["fc1B", p.fc1B, [Hd]], ["fc2W", p.fc2W, [D, Hd]], ["fc2B", p.fc2B, [D]]];
  for (const [name, t, shape] of want) {
    if (!tf.util.arraysEqual(t.shape, shape) || t.dtype !== "float32") {
      throw new Error(`${op}: ${name} must be float32 [${shape}] for x [${x.shape}] and fc1W [${p.fc1W.shape}], got ${t.dtype} [${t.shape}]`);
    }
  }
}

/** CPU kernel: outputs [out (shape of x), pre [..., hidden], act [..., hidden]] ([out] with attr inference). */
function fusedMlpCpu({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }): tf.TensorInfo[] {
  const shape = inputs.x.shape;
  const D = shape[shape.length - 1], Hd = inputs.fc1W.shape[0];
  const R = tf.util.sizeFromShape(shape) / D;
  const v = (t: tf.TensorInfo) => cpuValues<Float32Array>(backend, t);
  const pre = linearRows(v(inputs.x), v(inputs.fc1W), v(inputs.fc1B), R, D, Hd);
  const act = new Float32Array(pre.length);
  for (let i = 0; i < pre.length; i++) act[i] = 0.5 * pre[i] * (1 + erf(pre[i] * Math.SQRT1_2));
  const out = linearRows(act, v(inputs.fc2W), v(inputs.fc2B), R, Hd, D);
  if (attrs?.inference === true) return [cpuOutput(backend, shape, "float32", out)];
  const hShape = [...shape.slice(0, -1), Hd];
  return [cpuOutput(backend, shape, "float32", out), cpuOutput(backend, hShape, "float32", pre), cpuOutput(backend, hShape, "float32", act)];
}

/** The same MLP from tfjs ops (fused matMul + GeluErf), for backends without the kernel. */
export function fusedMlpComposite<T extends tf.Tensor>(x: T, p: MlpParams): T {
  checkShapes(x, p);
  const D = x.shape[x.rank - 1];
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, D]) as tf.Tensor2D;
    const h = geluErf(tf.fused.matMul({ a: x2, b: p.fc1W, transposeB: true, bias: p.fc1B }));
    return tf.reshape(tf.fused.matMul({ a: h, b: p.fc2W, transposeB: true, bias: p.fc2B }), x.shape);
  }) as T;
}

/**
 * The ViT MLP (timm `Mlp`: fc1, exact GELU, fc2; no dropout) over the last axis of float32 x.
 * Runs the backend's FusedMlp kernel when registered (gradient: FusedMlpGrad on the saved
 * pre-activation and activation), else a composite of tfjs ops.
 */
export function fusedMlp<T extends tf.Tensor>(x: T, p: MlpParams): T {
  checkShapes(x, p);
  if (!hasKernel(FUSED_MLP)) return fusedMlpComposite(x, p);
  if (!tf.engine().isTapeOn()) {
    const [out] = tf.engine().runKernel(FUSED_MLP, { x, ...p }, { inference: true }) as unknown as tf.Tensor[];
    return out as T;
  }
  // customGrad: pre and act stay off the tape (see fusedAttention).
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, fc1W, fc1B, fc2W, fc2B] = args as tf.Tensor[];
    const save = args[5] as tf.GradSaveFunc;
    const [out, pre, act] = tf.engine().runKernel(FUSED_MLP, { x: xx, fc1W, fc1B, fc2W, fc2B }) as unknown as tf.Tensor[];
    save([xx, fc1W, fc2W, pre, act]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sFc1W, sFc2W, sPre, sAct] = saved;
        return fusedMlpGrad(dy, sx, sFc1W as tf.Tensor2D, sFc2W as tf.Tensor2D, sPre, sAct);
      },
    };
  });
  return f(x, p.fc1W, p.fc1B, p.fc2W, p.fc2B) as T;
}

registerCpuKernel(FUSED_MLP, fusedMlpCpu as unknown as tf.KernelFunc);
