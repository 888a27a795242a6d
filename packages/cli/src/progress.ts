// Training progress: one redrawn line on a TTY, periodic plain lines otherwise, nothing with --quiet.

export interface ProgressInfo {
  step: number; totalSteps: number; epoch: number; imgPerSec: number;
  /** Balanced detection accuracy of the step's batch: 50% = nothing detected (raw accuracy would read 80% at p = 0.2). */
  loss: number; sslLoss: number; dilemmaLoss: number; detBalAcc?: number; knnAcc?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}

/** Renders progress to a stream; `log` prints a message without breaking the bar. */
export class Progress {
  private lastPlain = 0;
  private drawn = false;
  private readonly tty: boolean;
  constructor(private readonly out: NodeJS.WriteStream, private readonly quiet: boolean, private readonly plainEverySec = 10, private readonly startedAt = Date.now()) {
    this.tty = Boolean(out.isTTY);
  }

  line(p: ProgressInfo, etaSec: number): string {
    const parts = [
      `step ${p.step}/${p.totalSteps}`, `ep ${p.epoch}`, `eta ${formatDuration(etaSec)}`,
      `${p.imgPerSec.toFixed(1)} img/s`, `loss ${p.loss.toFixed(4)}`, `ssl ${p.sslLoss.toFixed(4)}`,
      `det ${p.dilemmaLoss.toFixed(4)}`,
    ];
    if (p.detBalAcc !== undefined && Number.isFinite(p.detBalAcc)) parts.push(`det bal.acc ${(p.detBalAcc * 100).toFixed(1)}%`);
    if (p.knnAcc !== undefined) parts.push(`knn ${(p.knnAcc * 100).toFixed(1)}%`);
    return parts.join("  ");
  }

  update(p: ProgressInfo, etaSec: number): void {
    if (this.quiet) return;
    const text = this.line(p, etaSec);
    if (this.tty) {
      const width = this.out.columns || 120;
      const frac = p.step / p.totalSteps;
      const barW = 20, filled = Math.round(frac * barW);
      const full = `[${"#".repeat(filled)}${"-".repeat(barW - filled)}] ${text}`;
      this.out.write(`\r\x1b[2K${full.slice(0, width - 1)}`);
      this.drawn = true;
    } else if (Date.now() - this.lastPlain >= this.plainEverySec * 1000 || p.step === p.totalSteps) {
      this.lastPlain = Date.now();
      this.out.write(`[${formatDuration((Date.now() - this.startedAt) / 1000)}] ${text}\n`);
    }
  }

  log(msg: string): void {
    if (this.quiet) return;
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.out.write(msg + "\n");
    this.drawn = false;
  }

  done(): void {
    if (this.drawn && !this.quiet) this.out.write("\n");
    this.drawn = false;
  }
}
