// Runs before core's test/setup.ts (see vitest.config.ts): registers the native backend and
// points core's setup at it, so core's suites (incl. parity) verify the native engine.
import { registerNativeBackend } from "../src/backend.js";
import { loadError } from "../src/index.js";

if (registerNativeBackend()) {
  process.env.DILEMMA_TEST_BACKEND = "native";
} else {
  console.warn(`[native tests] addon unavailable, core suites run on cpu: ${loadError()}`);
}
