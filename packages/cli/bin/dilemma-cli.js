#!/usr/bin/env node
/* global process, console */
// The `dilemma-cli` executable. A committed launcher, so that `npm ci` can link the bin before
// the TypeScript build (the `prepare` step) has written dist/.
import("../dist/bin.js").catch((e) => {
  if (e && e.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("dist/bin.js")) {
    console.error("dilemma-cli is not built yet: run `npm run build` at the repository root (npm ci does it via prepare).");
  } else {
    console.error(e);
  }
  process.exitCode = 1;
});
