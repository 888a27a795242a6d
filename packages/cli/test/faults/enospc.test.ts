// Disk full (ENOSPC) while a checkpoint is written: the earlier checkpoint stays intact, no
// half-written copy is left, status.json says what happened, and --resume continues. The fault
// is injected into node:fs for the files of one checkpoint directory.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { listCheckpoints, resolveCheckpoint } from "../../src/checkpoint.js";
import { train, TrainError } from "../../src/train.js";
import { TINY, tmpDir } from "../helpers.js";

const fault = vi.hoisted(() => ({ match: null as RegExp | null, fds: new Set<number>(), hits: 0 }));

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
  const openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
    const fd = (real.openSync as (...a: unknown[]) => number)(file, ...rest);
    if (fault.match?.test(String(file))) fault.fds.add(fd);
    return fd;
  }) as typeof real.openSync;
  const writeFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (typeof file === "number" && fault.fds.has(file)) {
      fault.hits++;
      throw enospc();
    }
    return (real.writeFileSync as (...a: unknown[]) => void)(file, ...rest);
  }) as typeof real.writeFileSync;
  const closeSync = ((fd: number) => { fault.fds.delete(fd); real.closeSync(fd); }) as typeof real.closeSync;
  const mocked = { ...real, openSync, writeFileSync, closeSync };
  return { ...mocked, default: mocked };
});

describe("disk full during a checkpoint", () => {
  it("keeps the last complete checkpoint, leaves no partial one, says so, and resumes", async () => {
    const out = path.join(tmpDir("enospc"), "run");
    fault.match = /[/\\]\.tmp-step-000004-/;
    const err = await train({ ...TINY, out, steps: 8, ckptEvery: 2 }).catch((e: unknown) => e);
    fault.match = null;
    expect(fault.hits).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(TrainError);
    expect((err as Error).message).toMatch(/no space left on the disk of .*run.*last complete checkpoint is step 2.*Free some space, then continue with: dilemma-cli train --resume/);
    const root = path.join(out, "checkpoints");
    expect(fs.readdirSync(root).filter((d) => d.startsWith(".tmp-"))).toEqual([]);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2]);
    expect(resolveCheckpoint(out).step).toBe(2);
    const status = JSON.parse(fs.readFileSync(path.join(out, "status.json"), "utf8"));
    expect(status).toMatchObject({ state: "failed", step: 2 });
    expect(status.message).toMatch(/no space left/);
    const r = await train({ resume: out, quiet: true, engine: "cpu", workers: 0 });
    expect(r).toMatchObject({ state: "done", step: 8 });
  });
});
