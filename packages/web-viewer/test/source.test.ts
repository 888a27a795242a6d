import { afterEach, describe, expect, it, vi } from "vitest";
import { listCheckpoints, listRuns, listSamples, stepDir, type RunInfo } from "../src/lib/source.js";

/** A fake server over a map of path -> JSON body (HEAD and GET); everything else is a 404. */
function serve(files: Record<string, unknown>) {
  const seen: string[] = [];
  vi.stubGlobal("fetch", async (url: string) => {
    seen.push(url);
    return url in files ? new Response(JSON.stringify(files[url]), { status: 200 }) : new Response("not found", { status: 404, statusText: "Not Found" });
  });
  return seen;
}

afterEach(() => vi.unstubAllGlobals());

const run: RunInfo = { id: "r", name: "r", base: "runs/r/", kind: "run" };

describe("listCheckpoints", () => {
  it("puts latest.json first, then probed steps that exist, newest first", async () => {
    serve({
      "runs/r/checkpoints/latest.json": { step: 30, dir: "step-000030" },
      "runs/r/checkpoints/step-000010/model.json": {},
      "runs/r/checkpoints/step-000020/model.json": {},
    });
    const list = await listCheckpoints(run, [30, 20, 10, 5]);
    expect(list.map((c) => c.label)).toEqual(["step 30 (latest)", "step 20", "step 10"]);
    expect(list[0]).toMatchObject({ dir: "runs/r/checkpoints/step-000030/", prefix: "base_encoder.", step: 30 });
  });

  it("returns [] for a run without checkpoints, and the folder itself for an export", async () => {
    serve({});
    expect(await listCheckpoints(run, [10])).toEqual([]);
    expect(await listCheckpoints({ ...run, base: "exp/", kind: "export" })).toEqual([{ label: "exported weights", dir: "exp/", prefix: "" }]);
  });

  it("pads step folder names to six digits", () => {
    expect(stepDir(600)).toBe("step-000600");
    expect(stepDir(1234567)).toBe("step-1234567");
  });
});

describe("listRuns / listSamples", () => {
  it("maps /api/runs entries to run folders and rejects a non-array", async () => {
    serve({ "api/runs": [{ id: "a b", name: "", status: { state: "done" } }] });
    const [r] = await listRuns({ kind: "server" });
    expect(r).toMatchObject({ id: "a b", name: "a b", base: "runs/a%20b/", kind: "run" });
    serve({ "api/runs": { runs: [] } });
    await expect(listRuns({ kind: "server" })).rejects.toThrow(/array/);
  });

  it("reads samples/index.json and treats a missing one as no samples", async () => {
    serve({ "runs/r/samples/index.json": [{ file: "000.png", label: 1, className: "square" }, { nope: 1 }] });
    expect(await listSamples(run)).toEqual([{ file: "000.png", label: 1, className: "square", url: "runs/r/samples/000.png" }]);
    serve({});
    expect(await listSamples(run)).toEqual([]);
  });
});
