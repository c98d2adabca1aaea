import { abortedError, throwIfAborted } from '../core/abort.js';
import type { AcquireOptions, FleetSemaphore, SemaphoreLease } from './fleet-semaphore.js';

interface Waiter {
  id: symbol;
  holder: string;
  limit: number;
  admit: () => void;
}

interface Slots {
  holders: Map<symbol, string>;
  waiting: Waiter[];
}

/**
 * The semaphore of one agent without a shared store: holders are counted in this process and admitted in
 * arrival order. A holder cannot die without the process, so leases need no expiry or renewal here.
 */
export class LocalFleetSemaphore implements FleetSemaphore {
  readonly shared = false;
  private readonly keys = new Map<string, Slots>();

  async acquire(key: string, limit: number, holder: string, signal?: AbortSignal, options: AcquireOptions = {}): Promise<SemaphoreLease> {
    throwIfAborted(signal);
    const slots = this.slots(key);
    const id = Symbol(holder);
    if (slots.waiting.length === 0 && slots.holders.size < limit) slots.holders.set(id, holder);
    else {
      options.onWaiting?.();
      await this.wait(slots, { id, holder, limit }, signal); // the slot is taken on our behalf when admitted
    }
    return this.lease(key, holder, id);
  }

  async holders(key: string): Promise<string[]> {
    return [...(this.keys.get(key)?.holders.values() ?? [])];
  }

  async close(): Promise<void> {}

  /** Waiters of `key` (for tests). */
  waiting(key: string): number {
    return this.keys.get(key)?.waiting.length ?? 0;
  }

  private slots(key: string): Slots {
    let s = this.keys.get(key);
    if (!s) this.keys.set(key, (s = { holders: new Map(), waiting: [] }));
    return s;
  }

  private lease(key: string, holder: string, id: symbol): SemaphoreLease {
    let released = false;
    return {
      key,
      holder,
      lost: new AbortController().signal,
      release: async () => {
        if (released) return;
        released = true;
        const slots = this.slots(key);
        slots.holders.delete(id);
        this.admit(key, slots);
      },
    };
  }

  /** Admits waiters in arrival order while slots are free, taking each one's slot before it wakes. */
  private admit(key: string, slots: Slots): void {
    while (slots.waiting.length && slots.holders.size < slots.waiting[0]!.limit) {
      const w = slots.waiting.shift()!;
      slots.holders.set(w.id, w.holder);
      w.admit();
    }
    if (slots.holders.size === 0 && slots.waiting.length === 0) this.keys.delete(key);
  }

  private wait(slots: Slots, who: Omit<Waiter, 'admit'>, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = slots.waiting.indexOf(entry);
        if (i >= 0) slots.waiting.splice(i, 1);
        reject(abortedError(signal));
      };
      const entry: Waiter = {
        ...who,
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      slots.waiting.push(entry);
    });
  }
}

let processWide: LocalFleetSemaphore | undefined;

/** The semaphore every job and command of this process shares when no shared store is configured. */
export function processSemaphore(): LocalFleetSemaphore {
  processWide ??= new LocalFleetSemaphore();
  return processWide;
}
