/* global process, console, setTimeout, clearTimeout, document, window, getComputedStyle */
// End-to-end tests of the viewer in a real browser (Debian's chromium via playwright-core):
// a short real training run, served like `dilemma-cli view` does, then curves, live updates,
// the inspector (swapping two patches must change the probabilities), the checkpoint comparison,
// the static export mode, the empty / error states and the Compare tab (two runs overlaid). Screenshots go to <repo>/artifacts/.
//   npm run e2e -w @dilemma/web-viewer      (DILEMMA_E2E_RUN=<run dir> reuses an existing run)
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { makeExport, startServer } from "./server.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "..");
const repo = path.resolve(pkg, "../..");
const cliBin = path.join(repo, "packages/cli/dist/bin.js");
const artifacts = path.join(repo, "artifacts");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "viewer-e2e-"));
const CHROMIUM = process.env.DILEMMA_CHROMIUM ?? "/usr/bin/chromium";
const t0 = Date.now();
const cleanups = [];
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// A hard cap so a hung browser or server never blocks CI.
const watchdog = setTimeout(() => { console.log("e2e: timed out after 240 s\n0 passed, 1 failed"); process.exit(1); }, 240_000);

function cliHas(command) {
  if (!fs.existsSync(cliBin)) return false;
  const r = spawnSync(process.execPath, [cliBin, "--help"], { encoding: "utf8", timeout: 20_000 });
  return new RegExp(`^\\s*${command}\\b`, "m").test(`${r.stdout}\n${r.stderr}`);
}

// ---- 1. a short real training run ----
async function makeRun() {
  const dir = path.join(tmp, "e2e-run");
  if (process.env.DILEMMA_E2E_RUN) {
    // A copy: the live-update test appends to metrics.jsonl and rewrites status.json.
    fs.cpSync(path.resolve(process.env.DILEMMA_E2E_RUN), dir, { recursive: true });
    return { dir, by: `a copy of ${process.env.DILEMMA_E2E_RUN} (DILEMMA_E2E_RUN)` };
  }
  if (cliHas("train")) {
    const args = ["train", "--steps", "20", "--model", "micro32", "--embed-dim", "48", "--depth", "2", "--heads", "3",
      "--head-hidden", "64", "--head-out", "32", "--batch", "8", "--token-drop", "0.5", "--dilemma-prob", "0.25",
      "--eval-every", "10", "--ckpt-every", "10", "--knn-bank", "64", "--knn-queries", "32", "--quiet", "--out", dir];
    const r = spawnSync(process.execPath, [cliBin, ...args], { encoding: "utf8", timeout: 150_000, cwd: repo });
    if (r.status !== 0) throw new Error(`dilemma-cli train failed (${r.status}): ${r.stderr || r.stdout}`);
    return { dir, by: "dilemma-cli train" };
  }
  const r = spawnSync(process.execPath, [path.join(here, "make-run.mjs"), dir, "20"], { encoding: "utf8", timeout: 150_000, cwd: pkg });
  if (r.status !== 0) throw new Error(`e2e/make-run.mjs failed (${r.status}): ${r.stderr || r.stdout}`);
  return { dir, by: "e2e/make-run.mjs (dilemma-cli train not available)" };
}

// ---- 2. the server ----
async function serveRun(runDir) {
  if (cliHas("view")) {
    const child = spawn(process.execPath, [cliBin, "view", runDir, "--port", "0"], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(() => child.kill("SIGINT"));
    const url = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`dilemma-cli view printed no URL: ${out}`)), 20_000);
      const onData = (d) => {
        out += d;
        const m = /https?:\/\/[^\s)]+/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[0].endsWith("/") ? m[0] : `${m[0]}/`); }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", (code) => reject(new Error(`dilemma-cli view exited (${code}): ${out}`)));
    });
    return { url, id: path.basename(runDir), by: "dilemma-cli view" };
  }
  const s = await startServer({ staticDir: path.join(pkg, "dist"), runs: [{ id: path.basename(runDir), dir: runDir }] });
  cleanups.push(s.close);
  return { url: s.url, id: path.basename(runDir), by: "e2e/server.mjs (dilemma-cli view not available)" };
}

// ---- helpers run in the page ----
/** Non-blank pixels and distinct colours of a canvas (proves something was drawn). */
async function canvasInk(locator) {
  return locator.evaluate((c) => {
    const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
    let ink = 0;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) { ink++; if (colours.size < 64) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]); }
    }
    return { ink, colours: colours.size, total: data.length / 4 };
  });
}

function assert(cond, msg) { if (!cond) throw new Error(msg); }

const results = [];
async function test(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push(true);
    log(`✓ ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push(false);
    log(`✗ ${name}: ${e.stack || e}`);
  }
}

async function main() {
  if (!fs.existsSync(path.join(pkg, "dist", "index.html"))) throw new Error("the viewer is not built: npm run build -w @dilemma/web-viewer");
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (apt-get install chromium, or set DILEMMA_CHROMIUM)`);
  fs.mkdirSync(artifacts, { recursive: true });

  const run = await makeRun();
  log(`run: ${run.dir} — made by ${run.by}`);
  const config = JSON.parse(fs.readFileSync(path.join(run.dir, "config.json"), "utf8"));
  const side = config.model.imgSize / config.model.patchSize;
  const server = await serveRun(run.dir);
  log(`server: ${server.url} — ${server.by}`);

  const exportDir = path.join(tmp, "export");
  if (cliHas("export")) {
    const r = spawnSync(process.execPath, [cliBin, "export", run.dir, exportDir], { encoding: "utf8", timeout: 60_000, cwd: repo });
    if (r.status !== 0) throw new Error(`dilemma-cli export failed (${r.status}): ${r.stderr || r.stdout}`);
    log("export: dilemma-cli export");
  } else {
    makeExport(run.dir, exportDir);
    log("export: e2e/server.mjs makeExport (dilemma-cli export not available)");
  }
  const broken = path.join(tmp, "broken");
  makeExport(run.dir, broken);
  fs.truncateSync(path.join(broken, "weights.bin"), 100);
  const staticSite = await startServer({ staticDir: path.join(pkg, "dist"), mounts: { "/export/": exportDir, "/broken/": broken, "/run/": run.dir } });
  cleanups.push(staticSite.close);
  const emptySite = await startServer({ staticDir: path.join(pkg, "dist"), runs: [] });
  cleanups.push(emptySite.close);

  const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1360, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  cleanups.unshift(() => browser.close());
  let page = browser.pages()[0] ?? (await browser.newPage());
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));

  // Live updates need a running run: mark it so, then finish it at the end of that test.
  const statusFile = path.join(run.dir, "status.json");
  const finalStatus = fs.readFileSync(statusFile, "utf8");
  fs.writeFileSync(statusFile, JSON.stringify({ ...JSON.parse(finalStatus), state: "running" }));

  await test("page loads the run from /api/runs", async () => {
    await page.goto(`${server.url}?run=${encodeURIComponent(server.id)}#curves`);
    const picker = page.getByTestId("run-picker");
    await picker.waitFor();
    assert((await picker.inputValue()) === server.id, `run picker shows ${await picker.inputValue()}`);
  });

  await test("training curves render", async () => {
    const losses = page.locator('[data-chart="losses"]');
    await losses.waitFor({ timeout: 15_000, polling: 200 });
    for (const id of ["losses", "detection", "lr"]) {
      const canvas = page.locator(`[data-chart="${id}"] canvas`).first();
      const ink = await canvasInk(canvas);
      assert(ink.ink > 500 && ink.colours > 2, `chart ${id} looks empty: ${JSON.stringify(ink)}`);
    }
    const points = Number(await losses.getAttribute("data-points"));
    assert(points >= 10, `losses chart has ${points} points`);
    await page.screenshot({ path: path.join(artifacts, "viewer-curves.png"), fullPage: true });
  });

  await test("live update: appends new lines, waits for a partial last line", async () => {
    const curves = page.getByTestId("curves");
    const before = Number(await curves.getAttribute("data-records"));
    const metricsFile = path.join(run.dir, "metrics.jsonl");
    const lastStep = Math.max(...fs.readFileSync(metricsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l).step));
    const line = JSON.stringify({ kind: "train", step: lastStep + 1, loss: 0.5, sslLoss: 0.4, dilemmaLoss: 0.1, lr: 1e-6, imgPerSec: 10 });
    fs.appendFileSync(metricsFile, line.slice(0, 20));
    await page.waitForTimeout(2600);
    const mid = Number(await curves.getAttribute("data-records"));
    assert(mid === before, `a partial line was parsed (${before} -> ${mid})`);
    fs.appendFileSync(metricsFile, `${line.slice(20)}\n`);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="curves"]')?.getAttribute("data-records")) === n + 1, before, { timeout: 6000, polling: 200 });
    fs.writeFileSync(statusFile, finalStatus);
    await page.waitForFunction(() => document.querySelector('[data-testid="curves"]')?.getAttribute("data-live") === "false", null, { timeout: 6000, polling: 200 });
  });

  const view = (i) => page.locator(".view").nth(i);
  const probsOf = async (i) => JSON.parse((await view(i).getAttribute("data-probs")) ?? "null");
  await test("inspector runs the model in the browser", async () => {
    await page.getByRole("tab", { name: "Detection inspector" }).click();
    await page.waitForFunction(() => document.querySelector(".view")?.getAttribute("data-state") === "ready", null, { timeout: 30_000, polling: 200 });
    const probs = await probsOf(0);
    const kept = JSON.parse(await page.getByTestId("inspector").getAttribute("data-kept"));
    assert(Array.isArray(probs) && probs.length === kept.length, `probabilities ${probs?.length} vs kept ${kept.length}`);
    assert(probs.every((p) => p >= 0 && p <= 1), "probabilities outside [0, 1]");
    const ink = await canvasInk(view(0).locator("canvas"));
    assert(ink.colours > 8, `heatmap canvas looks empty: ${JSON.stringify(ink)}`);
  });

  await test("the inspector says whether detection has emerged, from the run's held-out AUROC", async () => {
    const evals = fs.readFileSync(path.join(run.dir, "metrics.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .filter((l) => l.kind === "eval" && Number.isFinite(l.detAuroc));
    const box = page.getByTestId("detection-verdict");
    await page.waitForFunction(() => document.querySelector('[data-testid="detection-verdict"]')?.dataset.verdict !== undefined, null, { timeout: 6000, polling: 200 });
    const verdict = await box.getAttribute("data-verdict");
    if (!evals.length) { assert(verdict === "none", `no eval AUROC but verdict ${verdict}`); return; }
    const auroc = evals[evals.length - 1].detAuroc;
    const want = auroc < 0.6 ? "not-emerged" : auroc < 0.75 ? "weak" : "clear";
    assert(verdict === want, `AUROC ${auroc}: verdict ${verdict}, expected ${want}`);
    const text = await box.textContent();
    assert(text.includes(auroc.toFixed(2)), `the note does not quote AUROC ${auroc.toFixed(2)}: ${text}`);
    if (want === "not-emerged") assert(/has not emerged/.test(text) && (await box.isVisible()), `note: ${text}`);
    log(`  verdict ${verdict} (AUROC ${auroc.toFixed(3)})`);
  });

  await test("swapping two patches changes the heatmap", async () => {
    const inspector = page.getByTestId("inspector");
    const kept = JSON.parse(await inspector.getAttribute("data-kept"));
    const labels0 = JSON.parse(await inspector.getAttribute("data-labels"));
    // Two kept patches that are currently in place.
    const [a, b] = kept.filter((_, i) => labels0[i] === 0);
    const before = await probsOf(0);
    const canvas = view(0).locator("canvas");
    const box = await canvas.boundingBox();
    const click = (p) => canvas.click({ position: { x: ((p % side) + 0.5) * (box.width / side), y: (Math.floor(p / side) + 0.5) * (box.height / side) } });
    await page.locator('[data-tool="swap"]').click();
    await click(a);
    await click(b);
    await page.waitForFunction((prev) => {
      const v = document.querySelector(".view");
      return v?.getAttribute("data-state") === "ready" && v.getAttribute("data-probs") !== prev;
    }, JSON.stringify(before), { timeout: 20_000, polling: 200 });
    const after = await probsOf(0);
    const labels = JSON.parse(await inspector.getAttribute("data-labels"));
    const [ia, ib] = [kept.indexOf(a), kept.indexOf(b)];
    assert(labels[ia] === 1 && labels[ib] === 1, `swapped patches not labelled misplaced: ${labels[ia]}, ${labels[ib]}`);
    const diff = Math.max(Math.abs(after[ia] - before[ia]), Math.abs(after[ib] - before[ib]));
    // A 20-step model barely reacts, but its output must move (full float32 precision is exposed).
    assert(diff > 1e-7, `probabilities of the swapped patches did not change (max diff ${diff})`);
    await page.screenshot({ path: path.join(artifacts, "viewer-inspector.png"), fullPage: true });
  });

  await test("giving a patch a wrong position labels it and re-runs the model", async () => {
    const inspector = page.getByTestId("inspector");
    const kept = JSON.parse(await inspector.getAttribute("data-kept"));
    const labels0 = JSON.parse(await inspector.getAttribute("data-labels"));
    const slot = labels0.findIndex((l) => l === 0);
    const target = Array.from({ length: side * side }, (_, i) => i).find((i) => !kept.includes(i));
    const before = await view(0).getAttribute("data-probs");
    const canvas = view(0).locator("canvas");
    const box = await canvas.boundingBox();
    const click = (p) => canvas.click({ position: { x: ((p % side) + 0.5) * (box.width / side), y: (Math.floor(p / side) + 0.5) * (box.height / side) } });
    await page.locator('[data-tool="assign"]').click();
    await click(kept[slot]);
    await click(target);
    await page.waitForFunction((prev) => {
      const v = document.querySelector(".view");
      return v?.getAttribute("data-state") === "ready" && v.getAttribute("data-probs") !== prev;
    }, before, { timeout: 20_000, polling: 200 });
    const labels = JSON.parse(await inspector.getAttribute("data-labels"));
    assert(labels[slot] === 1, `patch ${kept[slot]} given position ${target} is not labelled misplaced`);
    assert(/→ position/.test(await page.locator(".edits").textContent()), "the edit is not listed");
  });

  await test("side-by-side comparison of two checkpoints", async () => {
    const selB = page.locator(".model-select").nth(1);
    const options = await selB.locator("option").evaluateAll((os) => os.map((o) => o.value));
    const current = await page.locator(".model-select").first().inputValue();
    const other = options.find((v) => v !== "" && v !== current) ?? "init";
    await selB.selectOption(other);
    await page.waitForFunction(() => [...document.querySelectorAll(".view")].length === 2
      && [...document.querySelectorAll(".view")].every((v) => v.getAttribute("data-state") === "ready"), null, { timeout: 30_000, polling: 200 });
    const [pa, pb] = [await probsOf(0), await probsOf(1)];
    assert(pa.length === pb.length, "views disagree on the kept tokens");
    assert(pa.some((p, i) => Math.abs(p - pb[i]) > 1e-6), "two different checkpoints gave identical probabilities");
    await page.screenshot({ path: path.join(artifacts, "viewer-compare.png"), fullPage: true });
    // "Stretch to range" recolours the same probabilities.
    const pixels = () => view(0).locator("canvas").evaluate((c) => Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 97 === 0)).join());
    const absolute = await pixels();
    await page.locator(".scale-select").selectOption("rel");
    assert((await pixels()) !== absolute, "stretching the colour scale did not change the heatmap");
    await page.screenshot({ path: path.join(artifacts, "viewer-compare-stretch.png"), fullPage: true });
    await page.locator(".scale-select").selectOption("abs");
  });

  await test("dark mode and a narrow screen", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForTimeout(300);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(bg !== "rgb(245, 246, 248)", `background did not switch: ${bg}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `page scrolls sideways by ${overflow}px on a narrow screen`);
    await page.screenshot({ path: path.join(artifacts, "viewer-mobile-dark.png"), fullPage: true });
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.getByRole("tab", { name: "Training" }).click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(artifacts, "viewer-curves-dark.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
  });

  // The remaining pages are other origins: a fresh tab each, as a user would open them.
  const fresh = async () => {
    await page.close();
    page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  };

  await test("static site: ?weights=<export dir>", async () => {
    await fresh();
    await page.goto(`${staticSite.url}?weights=${encodeURIComponent(`${staticSite.url}export/`)}`);
    await page.waitForFunction(() => document.querySelector(".model-select option") || document.querySelector(".notice-error"), null, { timeout: 30_000, polling: 200 });
    const shown = await page.evaluate(() => ({
      error: document.querySelector(".notice-error")?.textContent ?? "",
      training: !document.querySelector('[data-tab="curves"]')?.hidden,
    }));
    assert(!shown.error, `error: ${shown.error}`);
    assert(!shown.training, "an export should not offer training curves");
    // No samples in an export: drop an image of our own.
    await page.locator("#image-file").setInputFiles(path.join(run.dir, "samples", fs.readdirSync(path.join(run.dir, "samples")).find((f) => f.endsWith(".png"))));
    await page.waitForFunction(() => document.querySelector(".view")?.getAttribute("data-probs"), null, { timeout: 30_000, polling: 200 });
    log(`  export probabilities ready (backend ${await page.getByTestId("inspector").getAttribute("data-backend")})`);
    await page.screenshot({ path: path.join(artifacts, "viewer-static-export.png"), fullPage: true });
  });

  await test("the CPU backend gives the same probabilities as the default one", async () => {
    const sample = path.join(run.dir, "samples", fs.readdirSync(path.join(run.dir, "samples")).find((f) => f.endsWith(".png")));
    const probsWith = async (backend) => {
      await fresh();
      await page.goto(`${staticSite.url}?weights=${encodeURIComponent(`${staticSite.url}export/`)}${backend ? `&backend=${backend}` : ""}`);
      await page.waitForFunction(() => document.querySelector("#image-file"), null, { timeout: 15_000, polling: 200 });
      await page.locator("#image-file").setInputFiles(sample);
      await page.waitForFunction(() => document.querySelector(".view")?.getAttribute("data-probs"), null, { timeout: 30_000, polling: 200 });
      return { probs: JSON.parse(await view(0).getAttribute("data-probs")), backend: await page.getByTestId("inspector").getAttribute("data-backend") };
    };
    const dflt = await probsWith(null);
    const cpu = await probsWith("cpu");
    assert(cpu.backend === "cpu", `?backend=cpu ran on ${cpu.backend}`);
    const diff = Math.max(...cpu.probs.map((p, i) => Math.abs(p - dflt.probs[i])));
    assert(cpu.probs.length === dflt.probs.length && diff < 1e-3, `${dflt.backend} vs cpu differ by ${diff}`);
    log(`  ${dflt.backend} vs cpu: max |dp| = ${diff.toExponential(2)}`);
  });

  await test("static site: ?run=<run folder>", async () => {
    await fresh();
    await page.goto(`${staticSite.url}?run=${encodeURIComponent(`${staticSite.url}run/`)}#curves`);
    await page.locator('[data-chart="losses"] canvas').first().waitFor({ timeout: 15_000 });
    const ink = await canvasInk(page.locator('[data-chart="losses"] canvas').first());
    assert(ink.ink > 500, `chart looks empty: ${JSON.stringify(ink)}`);
  });

  await test("error state: weights that fail to load", async () => {
    await fresh();
    await page.goto(`${staticSite.url}?weights=${encodeURIComponent(`${staticSite.url}broken/`)}`);
    await page.locator("#image-file").setInputFiles(path.join(run.dir, "samples", fs.readdirSync(path.join(run.dir, "samples")).find((f) => f.endsWith(".png"))));
    await page.waitForFunction(() => document.querySelector(".view")?.getAttribute("data-state") === "error", null, { timeout: 30_000, polling: 200 });
    const text = await page.locator(".view .notice-error").textContent();
    assert(/weights failed to load/.test(text), `unexpected error text: ${text}`);
    await page.screenshot({ path: path.join(artifacts, "viewer-error.png") });
  });

  await test("empty state: no runs", async () => {
    await fresh();
    await page.goto(emptySite.url);
    await page.getByText("No runs yet").waitFor({ timeout: 10_000, polling: 200 });
    await page.screenshot({ path: path.join(artifacts, "viewer-empty.png") });
  });

  await test("compare: two runs overlaid on one chart, grouped by configuration", async () => {
    // A second run: the same curves under a plain configuration, its values shifted.
    const dir2 = path.join(tmp, "e2e-run-plain");
    fs.cpSync(run.dir, dir2, { recursive: true });
    const cfg2 = { ...config, seed: 1, dilemma: { ...config.dilemma, tokenDrop: 0, dilemmaProb: 0 } };
    fs.writeFileSync(path.join(dir2, "config.json"), JSON.stringify(cfg2));
    const lines = fs.readFileSync(path.join(dir2, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    fs.writeFileSync(path.join(dir2, "metrics.jsonl"), lines.map((m) => JSON.stringify(typeof m.loss === "number" ? { ...m, loss: m.loss + 0.5 } : m)).join("\n") + "\n");
    const site = await startServer({ staticDir: path.join(pkg, "dist"), runs: [{ id: "dilemma", dir: run.dir }, { id: "plain", dir: dir2 }] });
    cleanups.push(site.close);
    await fresh();
    await page.goto(`${site.url}#compare`);
    const panel = page.getByTestId("compare");
    await panel.waitFor({ timeout: 15_000 });
    assert((await page.locator(".compare-group").count()) === 2, "expected one group per configuration");
    await page.getByTestId("compare-metric").selectOption("loss");
    await page.getByTestId("compare-x").selectOption("step");
    await page.waitForFunction(() => document.querySelector('[data-testid="compare"]')?.getAttribute("data-series") === "2", null, { timeout: 10_000, polling: 200 });
    const ink = await canvasInk(panel.locator("canvas").first());
    assert(ink.ink > 500 && ink.colours > 2, `overlay chart looks empty: ${JSON.stringify(ink)}`);
    await page.screenshot({ path: path.join(artifacts, "viewer-compare.png"), fullPage: true });
    await panel.locator('input[data-run="plain"]').uncheck();
    await page.waitForFunction(() => document.querySelector('[data-testid="compare"]')?.getAttribute("data-series") === "1", null, { timeout: 10_000, polling: 200 });
  });

  await test("no uncaught page errors", async () => {
    assert(pageErrors.length === 0, pageErrors.join("\n"));
  });
}

let code = 0;
try {
  await main();
} catch (e) {
  console.log(`e2e setup failed: ${e.stack || e}`);
  results.push(false);
} finally {
  for (const c of cleanups) await Promise.resolve().then(c).catch(() => undefined);
  if (!process.env.DILEMMA_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  clearTimeout(watchdog);
  const passed = results.filter(Boolean).length;
  const failed = results.length - passed;
  code = failed ? 1 : 0;
  console.log(`${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${path.relative(process.cwd(), artifacts) || "."}/viewer-*.png)`);
}
process.exit(code);
