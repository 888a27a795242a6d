// The kernels section: every case of every family (families/), or those --only names, on the
// same random inputs on host buffers (the CPU references) and on device buffers (outputs
// NaN-poisoned first): error against per-case tolerances; median cudaEvent time, GB/s by the
// case's byte model, % of the D2D copy bandwidth measured in the same run.
import { EMBED_ANCHOR_BATCH, EMBED_ANCHOR_US, H200_COPY_GBPS } from "./anchors.js";
import { touchedOnce, type CaseContext, type KernelCase, type RunEnv, type Tol, type Where } from "./case.js";
import { FAMILIES } from "./families/index.js";
import { makeRand, rms, type HostArray, type Rand } from "./inputs.js";
import { ex, finishChild, fx, log, median, message, pad, section, state, writeChildOut, type Json } from "./report.js";

interface Compared { bad: number; maxAbs: number; maxRatio: number; firstBad: number; scale: number }

/** Elementwise comparison: bad where |d| > atol + rtol·|ref| (atol may scale with rms(ref)); NaN must match. */
function compare(ref: HostArray, got: HostArray, tol: Tol): Compared {
  const atol = (tol.atol ?? 0) + (tol.atolScale ?? 0) * rms(ref);
  let bad = 0, maxAbs = 0, maxRatio = 0, firstBad = -1;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i], g = got[i];
    if (Number.isNaN(r) || Number.isNaN(g)) {
      if (!(Number.isNaN(r) && Number.isNaN(g))) { bad++; if (firstBad < 0) firstBad = i; maxRatio = Infinity; }
      continue;
    }
    const d = Math.abs(r - g);
    const lim = atol + tol.rtol * Math.abs(r);
    if (d > maxAbs) maxAbs = d;
    const ratio = d === 0 ? 0 : lim === 0 ? Infinity : d / lim;
    if (ratio > maxRatio) maxRatio = ratio;
    if (d > lim) { bad++; if (firstBad < 0) firstBad = i; }
  }
  return { bad, maxAbs, maxRatio, firstBad, scale: rms(ref) };
}

/** Case selection of --only: a family name, a case name, or the first words of case names ("unary", "cast"). */
const selected = (c: KernelCase, only: string[]): boolean =>
  only.length === 0 || only.some((s) => c.family === s || c.name === s || c.name.startsWith(s + " "));

/** Every selected case at batch B, in family order. */
export function kernelCases(env: RunEnv, rand: Rand, B: number, forTiming: boolean): KernelCase[] {
  const ctx: CaseContext = { G: env.G, native: env.native, core: env.core, rand, B, forTiming, validateBatchMatmul: env.opts.validateBatchMatmul };
  const { only } = env.opts;
  // selectors that are not family names are case names: then every family is built to match them
  const byCaseName = only.some((s) => !FAMILIES.some((f) => f.name === s));
  const cases: KernelCase[] = [];
  for (const f of FAMILIES) {
    if (only.length && !byCaseName && !only.includes(f.name)) continue;
    for (const c of f.cases(ctx)) {
      c.family = f.name;
      if (selected(c, only)) cases.push(c);
    }
  }
  return cases;
}

export function kernelsSection(env: RunEnv): Promise<Json | null> {
  const { opts, G, native: { WHERE, DTYPE, PRECISION }, dev } = env;
  const onDevice = dev === WHERE.cuda;
  const rand = makeRand(opts.quick ? 1 << 16 : 1 << 22);

  function upload(where: Where, data: HostArray): number {
    const id = G.alloc(where, Math.max(4, data.byteLength));
    if (data.length) G.upload(id, data);
    return id;
  }
  function runCase(c: KernelCase, where: Where, poison: boolean) {
    const ids = c.ins.map((a) => upload(where, a));
    const outs = c.outs.map((o, j) => {
      const id = G.alloc(where, Math.max(4, 4 * o.n));
      if (c.initOut) G.upload(id, (c.initData ??= c.outs.map((x) => rand("normal", x.n) as Float32Array))[j]);
      else if (poison) G.fill(id, o.n, o.dtype === "float32" ? NaN : -7, o.dtype === "float32" ? DTYPE.float32 : DTYPE.int32);
      return id;
    });
    return { ids, outs, free: () => [...ids, ...outs].forEach((id) => G.free(id)) };
  }
  const setPrecision = (where: Where, c: KernelCase | null) => {
    if (where === WHERE.cuda) G.setMatmulPrecision(PRECISION[c?.precision ?? "fp32"]);
  };

  function validateCase(c: KernelCase) {
    const outs: HostArray[][] = [];
    const th = performance.now();
    for (const where of [WHERE.host, dev]) {
      const r = runCase(c, where, true);
      setPrecision(where, c);
      try {
        c.call(r.ids, r.outs);
        outs.push(c.outs.map((o, j) => {
          const a = o.dtype === "float32" ? new Float32Array(o.n) : new Int32Array(o.n);
          if (o.n) G.download(r.outs[j], a);
          return a;
        }));
      } finally {
        setPrecision(where, null);
        r.free();
      }
    }
    const hostMs = performance.now() - th;
    const cmp = c.outs.map((_, j) => compare(outs[0][j], outs[1][j], c.tol[j] ?? c.tol[0]));
    return { hostMs, cmp, ok: cmp.every((x) => x.bad === 0) };
  }

  /** Median time of `reps` launches: cudaEvents on the device, wall clock on the host. */
  function timeCase(c: KernelCase, reps: number, budgetMs: number) {
    const r = runCase(c, dev, false);
    setPrecision(dev, c);
    try {
      c.call(r.ids, r.outs); // warm-up (lazy module loading, cuBLAS heuristics)
      c.call(r.ids, r.outs);
      G.synchronize();
      const ts: number[] = [];
      const t0 = performance.now();
      if (onDevice) {
        const ev = [G.eventRecord()];
        for (let i = 0; i < reps; i++) {
          c.call(r.ids, r.outs);
          ev.push(G.eventRecord());
          if (performance.now() - t0 > budgetMs) break;
        }
        for (let i = 1; i < ev.length; i++) ts.push(G.eventElapsedMs(ev[i - 1], ev[i]) * 1000);
        ev.forEach((e) => G.eventFree(e));
      } else {
        for (let i = 0; i < reps; i++) {
          const t = performance.now();
          c.call(r.ids, r.outs);
          G.synchronize();
          ts.push((performance.now() - t) * 1000);
          if (performance.now() - t0 > budgetMs) break;
        }
      }
      return { us: median(ts), reps: ts.length };
    } finally {
      setPrecision(dev, null);
      r.free();
    }
  }

  /** After an error: can the device still run work (asynchronous faults are sticky in CUDA)? */
  function contextUsable(): boolean {
    try {
      const id = G.alloc(dev, 1024);
      G.fill(id, 256, 0, DTYPE.float32);
      G.synchronize();
      G.free(id);
      return true;
    } catch {
      return false;
    }
  }

  /** The copy-bandwidth reference: D2D copy of 256 MiB (read + write counted), median of 10. */
  function copyBandwidth(): number {
    const bytes = 256 * 2 ** 20, a = G.alloc(dev, bytes), b = G.alloc(dev, bytes);
    G.fill(a, bytes / 4, 1, DTYPE.float32);
    G.copy(b, 0, a, 0, bytes);
    const ev = [G.eventRecord()];
    for (let i = 0; i < 10; i++) { G.copy(b, 0, a, 0, bytes); ev.push(G.eventRecord()); }
    const ts: number[] = [];
    for (let i = 1; i < ev.length; i++) ts.push(G.eventElapsedMs(ev[i - 1], ev[i]));
    ev.forEach((e) => G.eventFree(e));
    G.free(a); G.free(b);
    return (2 * bytes) / (median(ts) / 1e3) / 1e9;
  }

  const anchorNote = (name: string, us: number | null): string => {
    const a = EMBED_ANCHOR_US[name];
    if (!a || us === null || !onDevice || opts.batch !== EMBED_ANCHOR_BATCH) return "";
    return `  (PyTorch H200 ${a.toFixed(0)} us: ${(a / us).toFixed(2)}x)`;
  };

  return section("kernels", opts.quick ? 300 : 75, async (budget, t0) => {
    const left = () => budget - (performance.now() - t0) / 1000;
    if (onDevice) G.init(0); // idempotent; a child process has not run the info section
    let copyGBps: number | null = null;
    if (onDevice) {
      copyGBps = copyBandwidth();
      log(`copy bandwidth (D2D 256 MiB, read + write): ${fx(copyGBps, 0)} GB/s (H200 reference ~${H200_COPY_GBPS})`);
    }
    const validate: (KernelCase | null)[] = kernelCases(env, rand, opts.validateBatch, false);
    // (--time-on-host: build and time the full-size cases on the host too, to try them without a GPU)
    const timing: (KernelCase | null)[] | null = onDevice || opts.timeOnHost ? kernelCases(env, rand, opts.batch, true) : null;
    if (opts.only.length) log(`--only ${opts.only.join(",")}: ${validate.length} case(s)`);
    if (validate.length === 0) throw new Error(`--only ${opts.only.join(",")} matches no kernel case (families: ${FAMILIES.map((f) => f.name).join(", ")})`);
    log(`validating at batch ${opts.validateBatch} (matMul ${Math.min(opts.validateBatch, opts.validateBatchMatmul)}) on host vs ${opts.device} buffers${timing ? `, timing at batch ${opts.batch}` : ""}`);
    log(`${"kernel".padEnd(28)} ${"shape (timed)".padEnd(22)} ${pad("ok", 3)} ${pad("bad", 7)} ${pad("maxAbsErr", 9)} ${pad("err/tol", 7)} ${pad("us", 9)} ${pad("GB/s", 7)} ${pad("%copy", 5)} ${pad("TFLOP/s", 7)}`);
    let failures = 0, skipped = 0;
    state.child.kernelCount = validate.length;
    if (opts.kernelFrom > 0) log(`(continuing from case ${opts.kernelFrom + 1} of ${validate.length})`);
    for (let i = opts.kernelFrom; i < validate.length; i++) {
      const c = validate[i] as KernelCase;
      if (left() < 2) { skipped++; continue; }
      const tc = timing ? (timing[i] as KernelCase) : c;
      // progress for the parent: if this case kills the process, it knows which and where to go on
      state.child.kernelNext = i;
      state.child.kernelCurrent = c.name;
      writeChildOut();
      // test hook of the restart path (a case that kills its process): CUDA_CHECK_TEST_KILL=<kernel name>
      if (process.env.CUDA_CHECK_TEST_KILL === c.name) process.kill(process.pid, "SIGKILL");
      let v: ReturnType<typeof validateCase>, t: { us: number; reps: number } | null = null;
      try {
        v = validateCase(c);
        if (left() > 2) t = timeCase(tc, opts.reps, Math.min(1500, left() * 200));
      } catch (e) {
        // a missing entry point or a thrown CUDA error fails this case; the others still run
        failures++;
        state.kernelResults.push({ kernel: c.name, family: c.family, shape: tc.shape, ok: false, error: message(e) });
        log(`${c.name.padEnd(28)} ${tc.shape.slice(0, 22).padEnd(22)}  NO  ERROR ${message(e).slice(0, 200)}`);
        if (onDevice && !contextUsable()) {
          // a fault poisons the CUDA context: the parent restarts after this case in a new process
          log("kernels: the CUDA context is no longer usable after this error");
          finishChild(3, { exitReason: "sticky", kernelNext: i });
        }
        continue;
      }
      if (!v.ok) failures++;
      const bytes = tc.bytes ?? touchedOnce(tc.ins, tc.outs);
      if (timing) timing[i] = null; // its host arrays can go (all timing cases together are a few GB)
      validate[i] = null;
      const GBps = t ? bytes / t.us / 1e3 : null;
      const row = {
        kernel: c.name, family: c.family, shape: tc.shape, ok: v.ok, bad: v.cmp.reduce((s, x) => s + x.bad, 0),
        maxAbsErr: Math.max(...v.cmp.map((x) => x.maxAbs)), errOverTol: Math.max(...v.cmp.map((x) => x.maxRatio)),
        outputs: v.cmp, hostRefMs: v.hostMs, us: t?.us ?? null, reps: t?.reps ?? 0, bytes, GBps,
        copyFrac: GBps !== null && copyGBps ? GBps / copyGBps : null, TFLOPs: tc.flops && t ? tc.flops / t.us / 1e6 : null,
      };
      state.kernelResults.push(row);
      log(`${c.name.padEnd(28)} ${tc.shape.slice(0, 22).padEnd(22)} ${pad(row.ok ? "yes" : "NO", 3)} ${pad(row.bad, 7)} ${pad(ex(row.maxAbsErr), 9)} ${pad(fx(row.errOverTol, 2), 7)} ${pad(fx(row.us, 1), 9)} ${pad(fx(GBps, 0), 7)} ${pad(row.copyFrac === null ? "-" : (100 * row.copyFrac).toFixed(0), 5)} ${pad(fx(row.TFLOPs, 1), 7)}${anchorNote(c.name, row.us)}`);
      if (!row.ok) {
        const j = v.cmp.findIndex((x) => x.bad > 0);
        log(`    output ${j}: first bad element ${v.cmp[j].firstBad}, ${v.cmp[j].bad} of ${c.outs[j].n} outside tolerance`);
      }
    }
    delete state.child.kernelNext; // finished normally
    if (skipped) log(`kernels: ${skipped} case(s) SKIPPED (budget spent)`);
    if (!onDevice) log("(host device: times are wall-clock CPU reference times, not device times)");
    log(failures ? `kernels: ${failures} FAILURE(S)` : `kernels: all ${state.kernelResults.length} cases match the host reference`);
    return { copyGBps, validateBatch: opts.validateBatch, timingBatch: timing ? opts.batch : null, failures, skipped, rows: state.kernelResults };
  });
}
