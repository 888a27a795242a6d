// One writer per run directory: `train` holds <run>/.lock (created exclusively) while it runs,
// so a second `train --out` / `--resume` on the same run fails instead of interleaving
// metrics and overwriting checkpoints. A lock left by a process that is gone is taken over.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TrainError } from "./errors.js";

interface LockInfo { pid: number; host: string; since: string }

/** Lock files this process holds (two train() calls in one process must not share a run). */
const held = new Set<string>();

/** Whether `pid` is a live process on this machine (EPERM: alive, owned by another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
    return typeof v.pid === "number" && typeof v.host === "string" ? v : null;
  } catch {
    return null;
  }
}

/** Takes the lock of `runDir` (which must exist); returns its release function. */
export function lockRun(runDir: string): () => void {
  const file = path.join(runDir, ".lock");
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(mine) + "\n", { flag: "wx" });
      held.add(file);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = readLock(file);
      // Stale: written by a process of this machine that no longer runs, or with our own pid but
      // not by us (a restarted container reuses pids, often 1). A lock being written right now
      // reads as null; only a second look decides.
      const stale = owner
        ? owner.host === mine.host && (owner.pid === process.pid ? !held.has(file) : !alive(owner.pid))
        : attempt > 0;
      if (stale && attempt < 3) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (!owner && attempt < 3) continue;
      const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.since}` : "another process";
      throw new TrainError(
        `${runDir} is in use by another dilemma-cli train (${who}); wait for it to finish or stop it` +
          `${owner && owner.host === mine.host ? ` (kill -INT ${owner.pid})` : ""}, or pick another --out. ` +
          `If no such process runs, delete ${file}.`,
      );
    }
  }
  return () => {
    if (!held.delete(file)) return;
    if (readLock(file)?.pid === mine.pid) fs.rmSync(file, { force: true });
  };
}
