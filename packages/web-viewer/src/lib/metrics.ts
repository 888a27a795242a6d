// metrics.jsonl reading (docs/run-format.md). The file grows while a run trains, so the reader is
// incremental: it is fed raw bytes and only ever parses complete lines; a partial last line stays
// buffered until its newline arrives.

export interface TrainRecord {
  kind: "train";
  step: number;
  epoch?: number;
  time?: number;
  lr?: number;
  loss?: number;
  sslLoss?: number;
  dilemmaLoss?: number;
  detAcc?: number;
  /** Chance level of detAcc (majority rate, 1 - p) and the balanced accuracy (0.5 = chance). */
  detChance?: number;
  detBalAcc?: number;
  detAuroc?: number;
  imgPerSec?: number;
  /** Seconds spent in training steps since the run began (resumes included). */
  trainTime?: number;
}

export interface EvalRecord {
  kind: "eval";
  step: number;
  time?: number;
  trainTime?: number;
  knnAcc?: number;
  detAcc?: number;
  detChance?: number;
  detBalAcc?: number;
  detAuroc?: number;
}

export type MetricRecord = TrainRecord | EvalRecord;

const TRAIN_FIELDS = ["epoch", "time", "trainTime", "lr", "loss", "sslLoss", "dilemmaLoss", "detAcc", "detChance", "detBalAcc", "detAuroc", "imgPerSec"] as const;
const EVAL_FIELDS = ["time", "trainTime", "knnAcc", "detAcc", "detChance", "detBalAcc", "detAuroc"] as const;

/** One line -> a record, or null for blank / malformed / unknown-kind lines (readers skip them). */
export function parseMetricLine(line: string): MetricRecord | null {
  const text = line.trim();
  if (!text) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== "object") return null;
  const obj = raw as Record<string, unknown>;
  if (typeof obj.step !== "number" || !Number.isFinite(obj.step)) return null;
  const fields = obj.kind === "train" ? TRAIN_FIELDS : obj.kind === "eval" ? EVAL_FIELDS : null;
  if (!fields) return null;
  // Keep only known numeric fields; unknown fields are ignored per the format. Non-finite
  // numbers (a diverged loss written as null) are dropped so the charts show a gap.
  const rec: Record<string, unknown> = { kind: obj.kind, step: obj.step };
  for (const f of fields) {
    const v = obj[f];
    if (typeof v === "number" && Number.isFinite(v)) rec[f] = v;
  }
  return rec as unknown as MetricRecord;
}

/** Parses a whole text; a last line without a newline is treated as possibly partial and skipped. */
export function parseMetrics(text: string): { records: MetricRecord[]; rest: string } {
  const end = text.lastIndexOf("\n");
  const complete = end < 0 ? "" : text.slice(0, end);
  const records: MetricRecord[] = [];
  for (const line of complete.split("\n")) {
    const r = parseMetricLine(line);
    if (r) records.push(r);
  }
  return { records, rest: text.slice(end + 1) };
}

const NEWLINE = 0x0a;

/**
 * Incremental reader over the file's bytes. `received` is how many bytes of the file it has
 * seen, so a poll can ask the server for only `Range: bytes=<received>-`.
 */
export class MetricsReader {
  /** Bytes of the file received so far (complete lines plus the buffered partial line). */
  received = 0;
  readonly records: MetricRecord[] = [];
  private pending = new Uint8Array(0);
  private readonly decoder = new TextDecoder();

  /**
   * Feed bytes that start at file position `at` (`received` for a range response, 0 for a full
   * re-download, whose already-seen prefix is skipped). Returns the newly completed records.
   */
  feed(bytes: Uint8Array, at: number = this.received): MetricRecord[] {
    if (at > this.received) throw new Error(`metrics: gap in data (have ${this.received} bytes, got a chunk at ${at})`);
    const fresh = bytes.subarray(Math.min(bytes.length, this.received - at));
    this.received += fresh.length;
    const buf = new Uint8Array(this.pending.length + fresh.length);
    buf.set(this.pending);
    buf.set(fresh, this.pending.length);
    const end = buf.lastIndexOf(NEWLINE);
    if (end < 0) {
      this.pending = buf;
      return [];
    }
    // Only complete lines are decoded, so a multi-byte character split across polls is safe.
    const text = this.decoder.decode(buf.subarray(0, end + 1));
    this.pending = buf.slice(end + 1);
    const added = parseMetrics(text).records;
    for (const r of added) this.records.push(r);
    return added;
  }
}
