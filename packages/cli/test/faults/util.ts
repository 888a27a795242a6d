// Helpers of the fault-injection suite.
import * as fs from "node:fs";
import * as net from "node:net";

/** Open file descriptors of a process (Linux /proc). */
export function openFds(pid: number | "self"): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * `count` GET requests on 127.0.0.1 (cycling through `paths`, `concurrency` at a time), each
 * dropped with a reset as soon as the first bytes of the answer arrive.
 */
export async function abortedDownloads(port: number, paths: string[], count: number, concurrency: number): Promise<void> {
  let next = 0;
  const one = (p: string) => new Promise<void>((resolve) => {
    const sock = net.connect(port, "127.0.0.1", () => sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    sock.once("data", () => sock.resetAndDestroy());
    sock.once("close", () => resolve());
    sock.once("error", () => undefined);
  });
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await one(paths[i % paths.length]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Let the server notice the resets.
  await new Promise((r) => setTimeout(r, 300));
}
