/** docs/api.md: one sample per 2 s over the last 10 minutes. */
export const SAMPLE_SECONDS = 2;
export const HISTORY_SAMPLES = 300;

/** A fixed-size ring of [unixSeconds, bytesPerSecond] samples of one job's transfer rate. */
export class ThroughputHistory {
  private readonly samples: Array<[number, number]> = [];
  private lastBytes: number | undefined;
  private lastAt: number | undefined;

  /** Records the rate since the previous sample from a monotonically growing byte count. */
  sample(bytes: number, nowMs = Date.now()): void {
    if (this.lastBytes !== undefined && this.lastAt !== undefined && nowMs > this.lastAt) {
      const rate = Math.max(0, (bytes - this.lastBytes) / ((nowMs - this.lastAt) / 1000));
      this.samples.push([Math.floor(nowMs / 1000), Math.round(rate)]);
      if (this.samples.length > HISTORY_SAMPLES) this.samples.shift();
    }
    this.lastBytes = bytes;
    this.lastAt = nowMs;
  }

  list(): Array<[number, number]> {
    return this.samples.map(([t, r]) => [t, r]);
  }
}
