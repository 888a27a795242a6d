// tfjs-core registers no gradients on import, and its ESM files (extensionless imports) do not
// load in Node. Like @tensorflow/tfjs's own node bundle, we bundle tfjs-core's
// register_all_gradients into one self-contained file. tfjs keeps its engine and registries on
// the global object (and Tensor has a structural instanceof), so this copy registers into the
// same engine that `@tensorflow/tfjs-core` uses.
import { build } from "esbuild";

await build({
  stdin: { contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients';", resolveDir: process.cwd() },
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  outfile: "dist/gradients.js",
  logLevel: "warning",
  legalComments: "none",
});
