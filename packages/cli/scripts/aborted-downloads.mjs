#!/usr/bin/env node
/* global process, console */
// Soak check of the viewer server (issue 17): N downloads of large files, each dropped after the
// first chunk, against a server in this process on 127.0.0.1; prints the open-file count
// (/proc/self/fd) every `--every` requests and fails unless it stays flat and the server still
// answers. Needs the built package (npm run build -w dilemma-cli) and Linux /proc.
//   node packages/cli/scripts/aborted-downloads.mjs [--count 20000] [--concurrency 32] [--every 2000]
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { serve } from "../dist/serve.js";

const { values } = parseArgs({ options: { count: { type: "string", default: "20000" }, concurrency: { type: "string", default: "32" }, every: { type: "string", default: "2000" } } });
const count = Number(values.count), concurrency = Number(values.concurrency), every = Number(values.every);
const fds = () => fs.readdirSync("/proc/self/fd").length;

const root = fs.mkdtempSync(path.join(os.tmpdir(), "dilemma-soak-"));
const stat = path.join(root, "static"), run = path.join(root, "run");
fs.mkdirSync(path.join(stat, "assets"), { recursive: true });
fs.mkdirSync(path.join(run, "checkpoints", "step-000001"), { recursive: true });
fs.writeFileSync(path.join(stat, "index.html"), "<html></html>");
fs.writeFileSync(path.join(stat, "assets", "index.js"), Buffer.alloc(2 << 20, 0x20));
fs.writeFileSync(path.join(run, "config.json"), "{}");
fs.writeFileSync(path.join(run, "metrics.jsonl"), '{"kind":"train","step":1}\n'.repeat(80_000));
fs.writeFileSync(path.join(run, "checkpoints", "step-000001", "weights.bin"), Buffer.alloc(4 << 20, 7));
const paths = ["/runs/run/checkpoints/step-000001/weights.bin", "/assets/index.js", "/runs/run/metrics.jsonl"];

const server = await serve({ runs: [run], staticDir: stat, port: 0 });
const port = server.port;
const one = (p) => new Promise((resolve) => {
  const sock = net.connect(port, "127.0.0.1", () => sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
  sock.once("data", () => sock.resetAndDestroy());
  sock.once("close", resolve);
  sock.once("error", () => undefined);
});
const settle = () => new Promise((r) => setTimeout(r, 500));
const check = () => new Promise((resolve) => {
  http.get({ host: "127.0.0.1", port, path: "/runs/run/config.json" }, (res) => { res.resume(); resolve(res.statusCode); }).on("error", (e) => resolve(e.code));
});

await settle();
const samples = [{ done: 0, fds: fds() }];
const t0 = Date.now();
let next = 0;
const worker = async () => {
  while (next < count) {
    const i = next++;
    await one(paths[i % paths.length]);
    if ((i + 1) % every === 0) samples.push({ done: i + 1, fds: fds() });
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
await settle();
const end = { done: count, fds: fds(), settled: true };
const status = await check();
await server.close();
fs.rmSync(root, { recursive: true, force: true });
const growth = end.fds - samples[0].fds;
const result = { count, concurrency, seconds: (Date.now() - t0) / 1000, fdsBefore: samples[0].fds, fdsAfter: end.fds, growth, maxFds: Math.max(...samples.map((s) => s.fds)), stillServes: status === 200, samples };
console.log(JSON.stringify(result));
process.exitCode = growth <= 4 && status === 200 ? 0 : 1;
