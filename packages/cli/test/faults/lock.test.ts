// The run lock: a lock left by a process that is gone (kill -9), or by an earlier process with
// our own pid (a restarted container), is taken over; one held in this process is not.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { lockRun } from "../../src/run-lock.js";
import { tmpDir } from "../helpers.js";

const lockFile = (dir: string) => path.join(dir, ".lock");
const write = (dir: string, pid: number, host = os.hostname()) =>
  fs.writeFileSync(lockFile(dir), JSON.stringify({ pid, host, since: "2026-01-01T00:00:00Z" }));

describe("run lock", () => {
  it("refuses a second holder in this process, and frees the run on release", () => {
    const dir = tmpDir("lock");
    const release = lockRun(dir);
    expect(() => lockRun(dir)).toThrow(new RegExp(`in use by another dilemma-cli train \\(pid ${process.pid} `));
    release();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
    lockRun(dir)();
  });

  it("takes over a lock whose process is gone, or that has our pid but is not ours", () => {
    for (const pid of [2 ** 22 + 12345, process.pid]) {
      const dir = tmpDir("lock-stale");
      write(dir, pid);
      const release = lockRun(dir);
      expect(JSON.parse(fs.readFileSync(lockFile(dir), "utf8")).pid).toBe(process.pid);
      release();
    }
  });

  it("keeps a lock of a live process or of another host, naming how to clear it", () => {
    const dir = tmpDir("lock-live");
    write(dir, process.ppid);
    expect(() => lockRun(dir)).toThrow(new RegExp(`pid ${process.ppid} on .*kill -INT ${process.ppid}.*delete ${lockFile(dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    write(dir, 1, "elsewhere.example");
    expect(() => lockRun(dir)).toThrow(/pid 1 on elsewhere\.example/);
  });
});
