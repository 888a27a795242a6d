// Polling metrics.jsonl: ask for the bytes after what was already read (HTTP Range); servers
// without range support send the whole file, whose known prefix the reader skips.
import { MetricsReader, type MetricRecord } from "./metrics.js";

export interface PollResult {
  added: MetricRecord[];
  /** The file was replaced by a shorter one (run restarted): the caller should start over. */
  reset: boolean;
  missing: boolean;
}

export async function pollMetrics(url: string, reader: MetricsReader): Promise<PollResult> {
  const from = reader.received;
  const res = await fetch(url, { cache: "no-store", headers: from > 0 ? { Range: `bytes=${from}-` } : {} });
  if (res.status === 404) return { added: [], reset: false, missing: true };
  // 416: nothing past `from` yet.
  if (res.status === 416) return { added: [], reset: false, missing: false };
  if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status === 206) {
    const m = /bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
    return { added: reader.feed(bytes, m ? Number(m[1]) : from), reset: false, missing: false };
  }
  if (bytes.length < from) return { added: [], reset: true, missing: false };
  return { added: reader.feed(bytes, 0), reset: false, missing: false };
}
