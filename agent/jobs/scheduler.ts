/**
 * Decides which queued jobs may start: at most `global` active jobs in total and at most
 * `perDestination` per destination key (store kind, bucket and region). FIFO within those limits:
 * a job blocked by its destination does not block jobs for other destinations behind it.
 */
export interface SchedulerLimits {
  global: number;
  perDestination: number;
}

export interface Schedulable {
  id: string;
  destinationKey: string;
}

export class Scheduler<T extends Schedulable> {
  private readonly queue: T[] = [];
  private readonly active = new Map<string, string>();

  constructor(private limits: SchedulerLimits) {}

  setLimits(limits: SchedulerLimits): void {
    this.limits = limits;
  }

  enqueue(item: T): void {
    this.queue.push(item);
  }

  /** Removes a job that has not started; true when it was waiting. */
  remove(id: string): boolean {
    const i = this.queue.findIndex((q) => q.id === id);
    if (i >= 0) this.queue.splice(i, 1);
    return i >= 0;
  }

  /** Marks a started job as finished, freeing its slots. */
  release(id: string): void {
    this.active.delete(id);
  }

  /** Every job that may start now, already counted as active. */
  takeRunnable(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.queue.length && this.active.size < this.limits.global; ) {
      const item = this.queue[i]!;
      if (this.activeFor(item.destinationKey) < this.limits.perDestination) {
        this.queue.splice(i, 1);
        this.active.set(item.id, item.destinationKey);
        out.push(item);
      } else i++;
    }
    return out;
  }

  private activeFor(key: string): number {
    let n = 0;
    for (const k of this.active.values()) if (k === key) n++;
    return n;
  }

  get activeCount(): number {
    return this.active.size;
  }

  get queuedCount(): number {
    return this.queue.length;
  }
}
