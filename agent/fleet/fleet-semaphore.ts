/**
 * A counting semaphore the whole fleet shares: at most `limit` holders of one key at a time, across every
 * agent that uses the same store (issue #15 point 4: cloud task caps per region, the fleet-wide job cap).
 * A slot is a lease: it renews itself while held, and a holder that dies without releasing loses its slot
 * once the lease expires.
 */
export interface FleetSemaphore {
  /** Whether holders in other processes count against the limit (a shared store), or only this process's. */
  readonly shared: boolean;
  /**
   * Waits until fewer than `limit` leases of `key` are live, then takes one for `holder` (a name shown to
   * operators: the job and agent). Rejects with the abort error when `signal` aborts while it waits.
   */
  acquire(key: string, limit: number, holder: string, signal?: AbortSignal, options?: AcquireOptions): Promise<SemaphoreLease>;
  /** The holders of `key`'s live leases now. */
  holders(key: string): Promise<string[]>;
  /** Stops renewals and closes connections; leases still held lapse with their lease time. */
  close(): Promise<void>;
}

export interface AcquireOptions {
  /** Called once, when the slot is not free at the first try: the caller says that it waits. */
  onWaiting?: (() => void) | undefined;
}

export interface SemaphoreLease {
  readonly key: string;
  readonly holder: string;
  /**
   * Aborts when a renewal found the lease gone (the process stalled past its lease and another holder
   * took the slot): the cap may be exceeded from then on, and the holder should say so.
   */
  readonly lost: AbortSignal;
  /** Gives the slot back and wakes a waiter; a second call does nothing. */
  release(): Promise<void>;
}

/** How long a lease lives without renewal (issue #15 point 3: a dead holder's slot frees within 60 s). */
export const DEFAULT_LEASE_MS = 60_000;
