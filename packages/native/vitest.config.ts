import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

// Core's suites also run here, on the native backend, when the addon is built
// (DILEMMA_NATIVE_CORE_TESTS=0 skips them).
const addonBuilt = existsSync(new URL("./build/Release/dilemma_native.node", import.meta.url));
const withCore = addonBuilt && process.env.DILEMMA_NATIVE !== "off" && process.env.DILEMMA_NATIVE_CORE_TESTS !== "0";
if (!withCore) {
  console.warn(addonBuilt
    ? "[native tests] core suites skipped (DILEMMA_NATIVE=off or DILEMMA_NATIVE_CORE_TESTS=0)"
    : "[native tests] core suites skipped: the addon is not built (npm run build:addon -w @dilemma/native)");
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", ...(withCore ? ["../core/test/**/*.test.ts"] : [])],
    setupFiles: ["test/setup-native.ts", "../core/test/setup.ts"],
    testTimeout: 120_000,
    server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } },
  },
});
