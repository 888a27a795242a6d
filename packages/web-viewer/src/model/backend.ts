// tfjs backend selection: WebGL when the browser can, otherwise the CPU backend.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-webgl";

let ready: Promise<string> | undefined;

/** Initialises once; resolves to the backend's name. `?backend=cpu` forces the CPU. */
export function initBackend(): Promise<string> {
  ready ??= (async () => {
    const forced = new URLSearchParams(location.search).get("backend");
    for (const name of forced ? [forced] : ["webgl", "cpu"]) {
      try {
        if (await tf.setBackend(name)) {
          await tf.ready();
          return name;
        }
      } catch {
        // try the next backend
      }
    }
    throw new Error("no tfjs backend could be initialised (neither WebGL nor CPU)");
  })();
  return ready;
}
