import { afterEach, describe, expect, it, vi } from "vitest";
import { MetricsReader } from "../src/lib/metrics.js";
import { pollMetrics } from "../src/lib/metricsFetch.js";

/** A fake server holding `file`; honours Range only when `ranges` is set. */
function serve(file: () => string, ranges: boolean) {
  const calls: (string | null)[] = [];
  vi.stubGlobal("fetch", async (_url: string, init?: RequestInit) => {
    const range = (init?.headers as Record<string, string> | undefined)?.Range ?? null;
    calls.push(range);
    const body = new TextEncoder().encode(file());
    if (!ranges || !range) return new Response(body, { status: 200 });
    const from = Number(/bytes=(\d+)-/.exec(range)![1]);
    if (from >= body.length) return new Response(null, { status: 416 });
    return new Response(body.subarray(from), { status: 206, headers: { "content-range": `bytes ${from}-${body.length - 1}/${body.length}` } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

const line = (step: number) => `{"kind":"train","step":${step},"loss":1}\n`;

describe("pollMetrics", () => {
  for (const ranges of [true, false]) {
    it(`appends only new records ${ranges ? "with" : "without"} Range support`, async () => {
      let file = line(1) + line(2).slice(0, 9);
      const calls = serve(() => file, ranges);
      const reader = new MetricsReader();
      expect((await pollMetrics("m", reader)).added.map((r) => r.step)).toEqual([1]);
      expect((await pollMetrics("m", reader)).added).toEqual([]);
      file = line(1) + line(2) + line(3);
      expect((await pollMetrics("m", reader)).added.map((r) => r.step)).toEqual([2, 3]);
      expect(reader.records.map((r) => r.step)).toEqual([1, 2, 3]);
      expect(calls[0]).toBeNull();
      expect(calls[2]).toMatch(/^bytes=\d+-$/);
    });
  }

  it("reports a missing file and a truncated (restarted) one", async () => {
    vi.stubGlobal("fetch", async () => new Response("nope", { status: 404 }));
    expect((await pollMetrics("m", new MetricsReader())).missing).toBe(true);
    const reader = new MetricsReader();
    let file = line(1) + line(2);
    serve(() => file, false);
    await pollMetrics("m", reader);
    file = line(1);
    expect((await pollMetrics("m", reader)).reset).toBe(true);
  });

  it("throws on server errors", async () => {
    vi.stubGlobal("fetch", async () => new Response("boom", { status: 500, statusText: "Internal" }));
    await expect(pollMetrics("m", new MetricsReader())).rejects.toThrow(/500/);
  });
});
