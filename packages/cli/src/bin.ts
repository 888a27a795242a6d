#!/usr/bin/env node
// The `dilemma-cli` executable.
import { main } from "./cli.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`dilemma-cli: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
