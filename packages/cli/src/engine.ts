/**
 * Engine selection for the cli: registers and activates a tfjs backend.
 *   auto       -> @dilemma/native's "native" backend when its addon loads, else tfjs "cpu"
 *   native     -> "native", or an error naming why the addon is unavailable
 *   cpu        -> tfjs-backend-cpu (pure JS)
 *   tensorflow -> @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node when installed (never a
 *                 dependency of this project; an error says how to install it otherwise)
 */
import * as tf from "@tensorflow/tfjs-core";

export type EngineName = "auto" | "native" | "cpu" | "tensorflow";

/** The engine that runs and why it was chosen. */
export interface EngineChoice {
  name: string;
  reason: string;
}

interface NativeModule {
  isAvailable(): boolean;
  loadError(): string | null;
  useNativeBackend(): Promise<void>;
  info(): { blas: string; threads: number; cuda: { compiled: boolean; devices: number } };
}

let announced = false;

function announce(choice: EngineChoice): EngineChoice {
  if (!announced) {
    announced = true;
    console.error(`engine: ${choice.name} (${choice.reason})`);
  }
  return choice;
}

async function loadNative(): Promise<NativeModule | string> {
  try {
    // A computed specifier: @dilemma/native is an optional dependency.
    const spec = "@dilemma/native";
    const m = (await import(spec)) as NativeModule;
    if (!m.isAvailable()) return m.loadError() ?? "the addon did not load";
    return m;
  } catch (e) {
    return `@dilemma/native is not installed or failed to load (${(e as Error).message})`;
  }
}

async function useCpu(reason: string): Promise<EngineChoice> {
  await import("@tensorflow/tfjs-backend-cpu");
  if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend(\"cpu\") failed");
  tf.enableProdMode(); // skips tfjs debug checks and its "install tfjs-node" banner
  return { name: "cpu", reason };
}

async function useTensorflow(): Promise<EngineChoice> {
  const errors: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(pkg);
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    if (!(await tf.setBackend("tensorflow"))) throw new Error(`${pkg} loaded but tf.setBackend("tensorflow") failed`);
    tf.enableProdMode();
    return { name: "tensorflow", reason: `${pkg} (TensorFlow C library)` };
  }
  throw new Error("--engine tensorflow needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which this project does " +
    "not install: `npm install @tensorflow/tfjs-node@4.22.0` (same version as tfjs-core), or use --engine auto, native or cpu. " +
    `(${errors.join("; ")})`);
}

/**
 * Registers and activates the requested engine, printing once (to stderr) which engine runs
 * and why.
 * @throws Error when "native" or "tensorflow" is requested and unavailable (says why and what to do).
 */
export async function selectEngine(name: EngineName): Promise<EngineChoice> {
  switch (name) {
    case "cpu":
      return announce(await useCpu("requested"));
    case "tensorflow":
      return announce(await useTensorflow());
    case "native":
    case "auto": {
      const native = await loadNative();
      if (typeof native === "string") {
        if (name === "native") {
          throw new Error(`--engine native: ${native}; build it with \`npm run build:addon -w @dilemma/native\` or use --engine cpu`);
        }
        return announce(await useCpu(`native engine unavailable: ${native}`));
      }
      await native.useNativeBackend();
      tf.enableProdMode();
      const i = native.info();
      return announce({ name: "native", reason: `${name === "auto" ? "addon loaded" : "requested"}; BLAS ${i.blas}, ${i.threads} threads` });
    }
    default:
      throw new Error(`unknown engine "${name as string}" (auto, native, cpu, tensorflow)`);
  }
}
