// The viewer server under faults and hostile input: unreadable files, aborted downloads (open
// file descriptors), DNS-rebinding Host headers, and the security headers of every answer.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Server } from "../../src/serve.js";
import { BIN, tmpDir } from "../helpers.js";
import { abortedDownloads, openFds } from "./util.js";

interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

function get(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, headers }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A run directory with a large weights.bin (bigger than a socket buffer) and a viewer dir. */
function fixture(name: string): { root: string; run: string; stat: string } {
  const root = tmpDir(name);
  const stat = path.join(root, "static");
  fs.mkdirSync(path.join(stat, "assets"), { recursive: true });
  fs.writeFileSync(path.join(stat, "index.html"), "<html>viewer</html>");
  fs.writeFileSync(path.join(stat, "assets", "bundle.js"), Buffer.alloc(4 << 20, 0x20));
  const run = path.join(root, "runs", "alpha");
  fs.mkdirSync(path.join(run, "checkpoints"), { recursive: true });
  fs.writeFileSync(path.join(run, "config.json"), JSON.stringify({ version: 1, method: "mocov3" }));
  fs.writeFileSync(path.join(run, "metrics.jsonl"), '{"kind":"train","step":1}\n'.repeat(200_000));
  fs.writeFileSync(path.join(run, "checkpoints", "weights.bin"), Buffer.alloc(4 << 20, 7));
  return { root, run, stat };
}

describe("view server: aborted downloads and headers", () => {
  let fx: ReturnType<typeof fixture>, server: Server;
  beforeAll(async () => {
    fx = fixture("serve-faults");
    server = await serve({ runs: [fx.run], staticDir: fx.stat, port: 0 });
  });
  afterAll(() => server.close());

  it.skipIf(!fs.existsSync("/proc/self/fd"))("300 downloads dropped after the first chunk leave no file open", async () => {
    const paths = ["/runs/alpha/checkpoints/weights.bin", "/assets/bundle.js", "/runs/alpha/metrics.jsonl"];
    // Warm up (lazy handles of the first requests), then measure.
    await abortedDownloads(server.port, paths, 6, 3);
    const before = openFds("self");
    await abortedDownloads(server.port, paths, 300, 16);
    const after = openFds("self");
    expect(after - before).toBeLessThanOrEqual(4);
    // And it still serves.
    expect((await get(server.port, "/runs/alpha/config.json")).status).toBe(200);
  });

  it.skipIf(process.platform === "win32")("a FIFO or a directory under an allowed name is 404, and the server keeps serving", async () => {
    const fifo = path.join(fx.run, "pipe.jsonl");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    fs.mkdirSync(path.join(fx.run, "dir.json"));
    // More requests than libuv has threads: a blocking open() on the FIFO would starve them all.
    const replies = await Promise.all(Array.from({ length: 8 }, () => get(server.port, "/runs/alpha/pipe.jsonl")));
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(404));
    expect((await get(server.port, "/runs/alpha/dir.json")).status).toBe(404);
    expect((await get(server.port, "/runs/alpha/config.json")).status).toBe(200);
  });

  it("answers a Range request with 206 and the bytes asked for (the viewer polls metrics that way)", async () => {
    const r = await get(server.port, "/runs/alpha/metrics.jsonl", { range: "bytes=26-51" });
    expect(r.status).toBe(206);
    expect(r.body).toBe('{"kind":"train","step":1}\n');
    expect(r.headers["content-range"]).toMatch(/^bytes 26-51\//);
  });

  it.each(["attacker.example", "attacker.example:PORT", "127.0.0.1.nip.io:PORT", "localhost.attacker.example:PORT", "127.0.0.1:1"])(
    "refuses Host %s (DNS rebinding)", async (h) => {
      for (const p of ["/api/runs", "/runs/alpha/config.json", "/"]) {
        const r = await get(server.port, p, { host: h.replace("PORT", String(server.port)) });
        expect(r.status, p).toBe(421);
        expect(r.body).not.toContain("mocov3");
        expect(r.body).not.toContain(fx.root);
      }
    });

  it.each(["127.0.0.1:PORT", "localhost:PORT", "LOCALHOST:PORT"])("serves Host %s", async (h) => {
    const r = await get(server.port, "/api/runs", { host: h.replace("PORT", String(server.port)) });
    expect(r.status).toBe(200);
    expect(r.body).toContain("mocov3");
  });

  it("sends a Content-Security-Policy and no-sniff / frame headers on every answer", async () => {
    for (const p of ["/", "/api/runs", "/runs/alpha/config.json", "/nosuch", "/runs/alpha/../x"]) {
      const r = await get(server.port, p);
      const csp = String(r.headers["content-security-policy"]);
      expect(csp, p).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["cache-control"]).toBe("no-store");
    }
  });
});

// As root, chmod 000 does not stop reads: the server then runs as an unprivileged user (setpriv).
const isRoot = process.getuid?.() === 0;
const canDrop = !isRoot || spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"]).status === 0;

describe.skipIf(!fs.existsSync(BIN) || !canDrop || process.platform === "win32")("view server: an unreadable run file", () => {
  it("answers 403 for it and keeps serving (no crash on EACCES), with a flat fd count", async () => {
    const fx = fixture("serve-eacces");
    // Readable by the unprivileged user except the one file.
    for (const d of [fx.root, path.dirname(fx.run), fx.run, path.join(fx.run, "checkpoints"), fx.stat, path.join(fx.stat, "assets")]) fs.chmodSync(d, 0o755);
    for (const f of ["config.json", "metrics.jsonl", "checkpoints/weights.bin"]) fs.chmodSync(path.join(fx.run, f), 0o644);
    fs.chmodSync(path.join(fx.run, "metrics.jsonl"), 0o000);
    const script = path.join(path.dirname(new URL(import.meta.url).pathname), "serve-child.mjs");
    const argv = [process.execPath, script, fx.stat, fx.run];
    const cmd = isRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv] : argv;
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => { stderr += d; });
    try {
      const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
        child.stdout.once("data", (d) => resolve(JSON.parse(String(d))));
        child.once("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
      });
      const before = openFds(pid);
      for (let i = 0; i < 50; i++) {
        const r = await get(port, "/runs/alpha/metrics.jsonl");
        expect(r.status, stderr).toBe(403);
        expect(r.body).not.toContain("EACCES");
      }
      expect((await get(port, "/runs/alpha/config.json")).status).toBe(200);
      expect(openFds(pid) - before).toBeLessThanOrEqual(2);
      expect(child.exitCode, stderr).toBeNull();
    } finally {
      child.kill("SIGTERM");
    }
  });
});
