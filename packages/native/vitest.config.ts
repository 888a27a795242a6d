import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Core's suites also run here, on the native backend, when the addon is built
// (DILEMMA_NATIVE_CORE_TESTS=0 skips them), and a second time on the cuda backend over the
// addon's host device (project "core-on-cuda") when the addon has the gpu runtime
// (DILEMMA_CUDA_CORE_TESTS=0 skips that run).
const addonPath = process.env.DILEMMA_ADDON ?? fileURLToPath(new URL("./build/Release/dilemma_native.node", import.meta.url));
const addonBuilt = existsSync(addonPath);
const withCore = addonBuilt && process.env.DILEMMA_NATIVE !== "off" && process.env.DILEMMA_NATIVE_CORE_TESTS !== "0";
if (!withCore) {
  console.warn(addonBuilt
    ? "[native tests] core suites skipped (DILEMMA_NATIVE=off or DILEMMA_NATIVE_CORE_TESTS=0)"
    : "[native tests] core suites skipped: the addon is not built (npm run build:addon -w @dilemma/native)");
}

function addonHasGpu(): boolean {
  try {
    const gpu = (createRequire(import.meta.url)(addonPath) as { gpu?: { alloc?: unknown } }).gpu;
    return typeof gpu?.alloc === "function";
  } catch {
    return false;
  }
}
const withCoreOnCuda = addonBuilt && process.env.DILEMMA_NATIVE !== "off" && process.env.DILEMMA_CUDA_CORE_TESTS !== "0" && addonHasGpu();
if (addonBuilt && !withCoreOnCuda) console.warn("[native tests] core suites on the cuda backend skipped (DILEMMA_NATIVE=off, DILEMMA_CUDA_CORE_TESTS=0, or no gpu runtime in the addon)");

export default defineConfig({
  test: {
    testTimeout: 120_000,
    server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } },
    projects: [
      {
        extends: true,
        test: {
          name: "native",
          include: ["test/**/*.test.ts", ...(withCore ? ["../core/test/**/*.test.ts"] : [])],
          setupFiles: ["test/setup-native.ts", "../core/test/setup.ts"],
        },
      },
      ...(withCoreOnCuda
        ? [{
          extends: true as const,
          test: {
            name: "core-on-cuda",
            include: ["../core/test/**/*.test.ts"],
            setupFiles: ["test/cuda/setup-core-on-cuda.ts", "../core/test/setup.ts"],
          },
        }]
        : []),
    ],
  },
});
