/**
 * At most `limit` PutSnapshotBlock requests in flight; the first failure stops new ones and aborts the
 * others (their blocks stay unconfirmed, for the resume). Memory: `limit` blocks of 512 KiB.
 */
export class BlockSender {
  private readonly inflight = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;
  private readonly stop = new AbortController();
  readonly signal: AbortSignal;

  constructor(private readonly limit: number, signal: AbortSignal) {
    this.signal = AbortSignal.any([signal, this.stop.signal]);
  }

  async add(task: (signal: AbortSignal) => Promise<void>): Promise<void> {
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    this.throwIfFailed();
    const p: Promise<void> = task(this.signal)
      .catch((err: unknown) => {
        if (!this.failure) {
          this.failure = { err };
          this.stop.abort(err);
        }
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Waits for every request in flight to end, however it ends (after a failure or an abort). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.err;
  }
}

/** Checkpoint saves one at a time: a save asked for while one runs is folded into the next. */
export class CoalescedSave {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly save: () => Promise<void>) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
    this.running.catch(() => undefined);
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.save();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.save();
    } while (this.again);
  }
}
