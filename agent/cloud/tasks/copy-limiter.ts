import { abortedError } from '../../core/abort.js';

interface Waiter {
  region: string;
  image: string;
  admit: () => void;
}

/**
 * Admission for image copies: at most `perRegion` running in one region, the rest queued in arrival
 * order, and never two copies of the same source image at once (ECS CopyImage: five concurrent copies
 * per region; OperationDenied.ImageCopyConflict for a second copy of one image).
 */
export class CopyLimiter {
  private readonly running = new Map<string, number>();
  private readonly busyImages = new Set<string>();
  private readonly waiting: Waiter[] = [];

  constructor(readonly perRegion = 5) {}

  /** Copies running in a region now (for tests and metrics). */
  runningIn(region: string): number {
    return this.running.get(region) ?? 0;
  }

  queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once admitted; `onQueued` is called when it has to wait first. */
  async run<T>(region: string, image: string, fn: () => Promise<T>, onQueued?: () => void, signal?: AbortSignal): Promise<T> {
    if (this.admissible(region, image)) this.take(region, image);
    else {
      onQueued?.();
      await this.wait(region, image, signal); // the slot is taken on our behalf when we are admitted
    }
    try {
      return await fn();
    } finally {
      this.release(region, image);
    }
  }

  private admissible(region: string, image: string): boolean {
    return this.runningIn(region) < this.perRegion && !this.busyImages.has(image);
  }

  private take(region: string, image: string): void {
    this.running.set(region, this.runningIn(region) + 1);
    this.busyImages.add(image);
  }

  private release(region: string, image: string): void {
    this.running.set(region, this.runningIn(region) - 1);
    this.busyImages.delete(image);
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      if (!this.admissible(w.region, w.image)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.take(w.region, w.image);
      w.admit();
    }
  }

  private wait(region: string, image: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortedError(signal));
      };
      const entry: Waiter = {
        region,
        image,
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }
}

let processLimiter: CopyLimiter | undefined;

/** The one limiter of this process: every job of a daemon shares the five ECS copy slots per region. */
export function processCopyLimiter(): CopyLimiter {
  processLimiter ??= new CopyLimiter();
  return processLimiter;
}
