// `dilemma-cli view`: a small static + run-file server for the web viewer. Only the named runs
// are served, only allow-listed file types, never anything outside a run directory, and only to
// requests addressed to this machine by IP or localhost (no DNS rebinding). Files go out through
// `send` (ranges, conditional GETs, and read streams closed when a client drops the connection).
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import sendStream from "send";
import { VIEW_DEFAULTS } from "./defaults.js";
import { Run } from "./run.js";
import { expandStudyDirs } from "./study/state.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Run directories to serve (default: every run under ./runs). */
  runs?: string[];
  host?: string;
  /** Port (default VIEW_DEFAULTS.port); when taken, a free port is used instead. */
  port?: number;
  /** Viewer files (default: {@link viewerDist}). */
  staticDir?: string;
}

/** A running server. */
export interface Server { url: string; port: number; runs: { id: string; dir: string }[]; close(): Promise<void> }

const RUN_EXT = new Set([".json", ".jsonl", ".bin", ".png"]);
const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".jsonl": "application/x-ndjson; charset=utf-8",
  ".bin": "application/octet-stream", ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon",
  ".wasm": "application/wasm", ".map": "application/json", ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2",
};

/**
 * The viewer's built files: the copy shipped in this package (dist/viewer, made by
 * scripts/copy-viewer.mjs at build time), else the workspace's @dilemma/web-viewer/dist (running
 * from src/ in this repository). Throws with a fix when neither exists.
 */
export function viewerDist(): string {
  const shipped = path.join(path.dirname(fileURLToPath(import.meta.url)), "viewer");
  if (fs.existsSync(path.join(shipped, "index.html"))) return shipped;
  let dir: string;
  try {
    dir = path.join(path.dirname(createRequire(import.meta.url).resolve("@dilemma/web-viewer/package.json")), "dist");
  } catch {
    throw new Error(`the viewer is missing (${shipped}/index.html); reinstall dilemma-cli, or in this repository run npm run build`);
  }
  if (!fs.existsSync(path.join(dir, "index.html"))) throw new Error(`the viewer is not built (${dir}/index.html missing); run npm run build -w @dilemma/web-viewer`);
  return dir;
}

/** Run directories under `root` (those with a config.json). */
export function discoverRuns(root = "runs"): string[] {
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && Run.exists(path.join(root, e.name)))
    .map((e) => path.join(root, e.name)).sort();
}

/** Unique URL-safe ids for the runs (basename, suffixed on collision). */
function assignIds(dirs: string[]): { id: string; dir: string }[] {
  const used = new Set<string>();
  return dirs.map((d) => {
    const base = path.basename(path.resolve(d)).replace(/[^A-Za-z0-9._-]/g, "_") || "run";
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
    used.add(id);
    return { id, dir: fs.realpathSync(d) };
  });
}

/**
 * Resolves a request path inside `root`, or null when it would leave it: `..` segments (also
 * percent-encoded), absolute paths, backslashes, NUL bytes and symlinks pointing outside.
 */
export function safeResolve(root: string, rel: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\") || path.isAbsolute(decoded) || decoded.startsWith("/")) return null;
  const segs = decoded.split("/");
  if (segs.some((s) => s === ".." || s === ".")) return null;
  const full = path.resolve(root, decoded);
  if (full !== root && !full.startsWith(root + path.sep)) return null;
  let real: string;
  try {
    real = fs.realpathSync(full);
  } catch {
    return null;
  }
  if (real !== root && !real.startsWith(root + path.sep)) return null;
  return real;
}

/** Headers of every answer: no caching, no sniffing, no framing, scripts only from this origin. */
const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  // The viewer sets style attributes from script (heatmap legend) and uses a data: icon and
  // blob: URLs; it loads scripts and data only from this server.
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function reply(res: http.ServerResponse, code: number, body: string, type = "text/plain; charset=utf-8"): void {
  for (const h of res.getHeaderNames()) res.removeHeader(h);
  res.writeHead(code, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Whether a request's Host header names this server: an IP literal or localhost (a DNS name
 * would let any web page rebind it to 127.0.0.1), the host it listens on, and its port.
 */
export function hostAllowed(hostHeader: string | undefined, listenHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1].replace(/^\[|\]$/g, "");
  if (Number(m[2] ?? 80) !== port) return false;
  return net.isIP(name) !== 0 || name === "localhost" || name === listenHost.toLowerCase();
}

/** Streams a file (ranges and conditional requests included); failures become 403/404/500. */
function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string): void {
  // Regular files only: opening a FIFO or a device would block a libuv thread for good.
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return reply(res, 404, "not found\n");
  }
  if (!st.isFile()) return reply(res, 404, "not found\n");
  res.setHeader("content-type", MIME[path.extname(file).toLowerCase()] ?? "application/octet-stream");
  // `file` is already resolved and checked; send gets its directory as root and the name alone.
  sendStream(req, "/" + encodeURIComponent(path.basename(file)), {
    root: path.dirname(file), index: false, dotfiles: "ignore", cacheControl: false, etag: true, lastModified: true,
  })
    .on("directory", () => reply(res, 404, "not found\n"))
    .on("error", (err: NodeJS.ErrnoException & { status?: number }) => {
      if (res.headersSent) return void res.destroy();
      const denied = err.code === "EACCES" || err.code === "EPERM";
      const status = denied ? 403 : err.status ?? 500;
      reply(res, status, denied ? "forbidden: the server cannot read this file\n" : status === 404 ? "not found\n" : `${status}\n`);
    })
    .pipe(res);
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => { server.off("listening", onListening); reject(e); };
    const onListening = () => { server.off("error", onError); resolve((server.address() as { port: number }).port); };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/** Starts the viewer server; resolves once it listens. */
export async function serve(o: ServeOptions = {}): Promise<Server> {
  const staticDir = fs.realpathSync(o.staticDir ?? viewerDist());
  // A study directory (dilemma-cli study) stands for all of its runs.
  const dirs = expandStudyDirs(o.runs ?? discoverRuns());
  for (const d of dirs) if (!Run.exists(d)) throw new Error(`${d} is not a run directory (no config.json)`);
  const runs = assignIds(dirs);
  const byId = new Map(runs.map((r) => [r.id, r.dir]));
  const host = o.host ?? VIEW_DEFAULTS.host;
  let port = 0;
  const server = http.createServer((req, res) => {
    try {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      if (!hostAllowed(req.headers.host, host, port)) return reply(res, 421, "misdirected request: use http://127.0.0.1:<port>/ or http://localhost:<port>/\n");
      const method = req.method ?? "GET";
      if (method !== "GET" && method !== "HEAD") return reply(res, 405, "method not allowed\n");
      const url = new URL(req.url ?? "/", "http://x");
      // Work on the raw path: URL parsing already collapsed literal "..", but not encoded ones.
      const raw = (req.url ?? "/").split("?")[0].split("#")[0];
      if (url.pathname === "/api/runs") {
        const list = runs.map(({ id, dir }) => {
          const run = new Run(dir);
          // A run being written may have no status yet, or a file the viewer cannot use: null.
          const read = <T>(f: () => T) => { try { return f(); } catch { return null; } };
          return { id, name: path.basename(dir), config: read(() => run.config()), status: read(() => run.status()) };
        });
        return reply(res, 200, JSON.stringify(list), "application/json");
      }
      const m = /^\/runs\/([^/]+)\/(.+)$/.exec(raw);
      if (m) {
        const root = byId.get(decodeURIComponentSafe(m[1]));
        const file = root ? safeResolve(root, m[2]) : null;
        if (!file || !RUN_EXT.has(path.extname(file).toLowerCase())) return reply(res, 404, "not found\n");
        return sendFile(req, res, file);
      }
      if (raw.startsWith("/runs/") || raw.startsWith("/api/")) return reply(res, 404, "not found\n");
      const rel = raw === "/" ? "index.html" : raw.slice(1);
      const file = safeResolve(staticDir, rel);
      if (!file) return reply(res, 404, "not found\n");
      return sendFile(req, res, file);
    } catch {
      if (res.headersSent) res.destroy();
      else reply(res, 500, "internal error\n");
    }
  });
  try {
    port = await listen(server, host, o.port ?? VIEW_DEFAULTS.port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    port = await listen(server, host, 0);
  }
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`, port, runs,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return "";
  }
}
