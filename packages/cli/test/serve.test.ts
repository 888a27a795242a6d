import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeResolve, serve, type Server } from "../src/serve.js";
import { tmpDir } from "./helpers.js";

/** GET with the path sent verbatim (fetch would normalise "..", which is what we test). */
function get(port: number, rawPath: string): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode!, body, type: res.headers["content-type"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("view server", () => {
  let root: string, server: Server;
  beforeAll(async () => {
    root = tmpDir("serve");
    const stat = path.join(root, "static");
    fs.mkdirSync(stat);
    fs.writeFileSync(path.join(stat, "index.html"), "<html>viewer</html>");
    const run = path.join(root, "runs", "alpha");
    fs.mkdirSync(path.join(run, "samples"), { recursive: true });
    fs.writeFileSync(path.join(run, "config.json"), JSON.stringify({ version: 1, method: "mocov3" }));
    fs.writeFileSync(path.join(run, "status.json"), JSON.stringify({ state: "done", step: 3 }));
    fs.writeFileSync(path.join(run, "metrics.jsonl"), '{"kind":"train","step":1}\n');
    fs.writeFileSync(path.join(run, "notes.txt"), "not allow-listed");
    fs.writeFileSync(path.join(run, "samples", "000.png"), "png");
    // Outside the run: a secret next to it, another (unnamed) run, and symlinks pointing out.
    fs.writeFileSync(path.join(root, "runs", "secret.json"), '{"secret": true}');
    const other = path.join(root, "runs", "beta");
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, "config.json"), "{}");
    fs.symlinkSync(path.join(root, "runs", "secret.json"), path.join(run, "link.json"));
    fs.symlinkSync(path.join(root, "runs"), path.join(run, "linkdir"));
    server = await serve({ runs: [run], staticDir: stat, port: 0 });
  });
  afterAll(() => server.close());

  it("lists only the named runs with config and status", async () => {
    const r = await get(server.port, "/api/runs");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual([{ id: "alpha", name: "alpha", config: { version: 1, method: "mocov3" }, status: { state: "done", step: 3 } }]);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it("serves allow-listed files of a run and the viewer's files", async () => {
    expect((await get(server.port, "/runs/alpha/metrics.jsonl")).body).toContain('"step":1');
    expect((await get(server.port, "/runs/alpha/samples/000.png")).type).toBe("image/png");
    expect((await get(server.port, "/")).body).toContain("viewer");
    expect((await get(server.port, "/runs/alpha/notes.txt")).status).toBe(404);
    expect((await get(server.port, "/runs/beta/config.json")).status).toBe(404);
  });

  it.each([
    "/runs/alpha/../secret.json", "/runs/alpha/%2e%2e/secret.json", "/runs/alpha/%2E%2E%2Fsecret.json",
    "/runs/alpha/..%2fsecret.json", "/runs/alpha/samples/..%2f..%2fsecret.json", "/runs/alpha/%252e%252e/secret.json",
    `/runs/alpha/${encodeURIComponent(path.join("/", "etc", "passwd"))}`, "/runs/alpha//etc/passwd", "/runs/alpha/..%5csecret.json",
    "/runs/alpha/link.json", "/runs/alpha/linkdir/secret.json", "/runs/alpha/config.json%00.png", "/runs/%2e%2e/runs/secret.json",
    "/../runs/secret.json", "/%2e%2e/runs/secret.json",
  ])("refuses %s", async (p) => {
    const r = await get(server.port, p);
    expect(r.status).toBe(404);
    expect(r.body).not.toContain("secret");
  });

  it("safeResolve keeps paths inside the root", () => {
    const run = fs.realpathSync(path.join(root, "runs", "alpha"));
    expect(safeResolve(run, "config.json")).toBe(path.join(run, "config.json"));
    expect(safeResolve(run, "..%2Fsecret.json")).toBeNull();
    expect(safeResolve(run, "%E0%A4%A")).toBeNull(); // malformed escape
  });

  it("falls back to a free port when the port is taken", async () => {
    const second = await serve({ runs: [], staticDir: path.join(root, "static"), port: server.port });
    try {
      expect(second.port).not.toBe(server.port);
      expect((await get(second.port, "/api/runs")).body).toBe("[]");
    } finally {
      await second.close();
    }
  });
});
