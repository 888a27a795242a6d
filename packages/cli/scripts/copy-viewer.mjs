#!/usr/bin/env node
/* global console, process */
// Ships the built web viewer inside dilemma-cli (dist/viewer), so that `dilemma-cli view` works
// from the npm tarball: @dilemma/web-viewer is private and never installed outside this
// repository. Turbo builds the viewer first (it is a devDependency of this package).
import { cpSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let src;
try {
  src = join(dirname(createRequire(join(root, "package.json")).resolve("@dilemma/web-viewer/package.json")), "dist");
} catch {
  console.error("copy-viewer: @dilemma/web-viewer is not installed; run npm ci at the repository root");
  process.exit(1);
}
if (!existsSync(join(src, "index.html"))) {
  console.error(`copy-viewer: ${src}/index.html is missing; build the viewer first (npm run build -w @dilemma/web-viewer, or npx turbo run build)`);
  process.exit(1);
}
const dest = join(root, "dist", "viewer");
rmSync(dest, { recursive: true, force: true });
cpSync(src, dest, { recursive: true });
