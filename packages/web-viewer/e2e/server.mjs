/* global URL, Buffer */
// A tiny static server for the e2e tests: the built viewer at /, and optionally the routes of
// `dilemma-cli view` (GET /api/runs, /runs/<id>/<file>) and extra static folders (an export, for
// the static-site mode). Used where the cli's own server is not available or not the point.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".jsonl": "application/x-ndjson", ".bin": "application/octet-stream", ".png": "image/png",
};

function inside(root, rel) {
  const full = path.resolve(root, decodeURIComponent(rel));
  return full === root || full.startsWith(root + path.sep) ? full : null;
}

/** opts: { staticDir, runs?: { id, dir }[], mounts?: Record<prefix, dir> }. Resolves to { url, close }. */
export function startServer({ staticDir, runs = null, mounts = {} }) {
  const root = path.resolve(staticDir);
  const server = http.createServer((req, res) => {
    const send = (code, body, type = "text/plain") => { res.writeHead(code, { "content-type": type, "cache-control": "no-store" }); res.end(body); };
    const file = (f) => {
      if (!f || !fs.existsSync(f) || !fs.statSync(f).isFile()) return send(404, "not found\n");
      res.writeHead(200, { "content-type": MIME[path.extname(f)] ?? "application/octet-stream", "cache-control": "no-store" });
      if (req.method === "HEAD") return res.end();
      fs.createReadStream(f).pipe(res);
    };
    const url = new URL(req.url, "http://x");
    if (runs && url.pathname === "/api/runs") {
      const read = (d, f) => { try { return JSON.parse(fs.readFileSync(path.join(d, f), "utf8")); } catch { return null; } };
      return send(200, JSON.stringify(runs.map((r) => ({ id: r.id, name: r.id, config: read(r.dir, "config.json"), status: read(r.dir, "status.json") }))), "application/json");
    }
    const m = /^\/runs\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (runs && m) {
      const run = runs.find((r) => r.id === decodeURIComponent(m[1]));
      return file(run ? inside(path.resolve(run.dir), m[2]) : null);
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (url.pathname.startsWith(prefix)) return file(inside(path.resolve(dir), url.pathname.slice(prefix.length)));
    }
    return file(inside(root, url.pathname === "/" ? "index.html" : url.pathname.slice(1)));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

/**
 * Writes what `dilemma-cli export` writes from a run checkpoint: the encoder under its timm
 * names (prefix "base_encoder." removed), dilemma_head.*, and config.json.
 */
export function makeExport(runDir, outDir) {
  const latest = JSON.parse(fs.readFileSync(path.join(runDir, "checkpoints", "latest.json"), "utf8"));
  const ckpt = path.join(runDir, "checkpoints", latest.dir);
  const json = JSON.parse(fs.readFileSync(path.join(ckpt, "model.json"), "utf8"));
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(ckpt, p)))));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const keep = [], parts = [];
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1) * 4; // float32 / int32
    const name = s.name.startsWith("base_encoder.") ? s.name.slice("base_encoder.".length) : s.name.startsWith("dilemma_head.") ? s.name : null;
    if (name && !name.startsWith("head.")) { keep.push({ ...s, name }); parts.push(bytes.subarray(at, at + n)); }
    at += n;
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "weights.bin"), Buffer.concat(parts));
  fs.writeFileSync(path.join(outDir, "model.json"), JSON.stringify({ format: "dilemma-weights", weightsManifest: [{ paths: ["weights.bin"], weights: keep }] }));
  fs.copyFileSync(path.join(runDir, "config.json"), path.join(outDir, "config.json"));
}
