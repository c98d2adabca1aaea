import type { Logger } from 'pino';
import { isVmxferError } from '../core/errors.js';
import { JOB } from './error-codes.js';
import type { JobStore } from './job-store.js';
import { TERMINAL_STATES, type JobRecord } from './job-types.js';

/** A conflict is a cancel request or a second writer; past this many in a row something is wrong. */
const MAX_CONFLICTS = 3;

/**
 * Writes the records a runner owns, one write at a time per job, each a compare-and-set on the
 * version the runner last saw. On JOB_CONFLICT it reads the stored record: a cancel request is
 * handed to `onCancelRequested` (the run stops), and the write goes again on the stored version.
 */
export class JobWriter {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: JobStore,
    private readonly onCancelRequested: (stored: JobRecord) => void,
    private readonly log: Logger,
  ) {}

  /**
   * Resolves once the record as it is now is durable (or the failure is logged). Each write stores its
   * own snapshot, in order: a state that lasts less than a write (a copy turning available just
   * before the shares start) still reaches the store's change stream, the feed and the dashboard.
   */
  write(rec: JobRecord): Promise<void> {
    const snapshot = structuredClone(rec);
    const next = (this.chains.get(rec.id) ?? Promise.resolve()).then(() => this.put(rec, snapshot)).catch((err: unknown) => {
      this.log.error({ job: rec.id, code: isVmxferError(err) ? err.code : undefined, err: (err as Error).message }, 'could not persist a job record');
    });
    this.chains.set(rec.id, next);
    void next.then(() => this.chains.get(rec.id) === next && this.chains.delete(rec.id));
    return next;
  }

  /** Every write queued so far has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  private async put(rec: JobRecord, written: JobRecord): Promise<void> {
    let snapshot = written;
    for (let conflicts = 0; ; conflicts++) {
      try {
        const saved = await this.store.update(rec.id, rec.version, snapshot);
        rec.version = Math.max(rec.version, saved.version);
        return;
      } catch (err) {
        const stored = isVmxferError(err) && err.code === JOB.CONFLICT.code && conflicts < MAX_CONFLICTS ? await this.store.get(rec.id) : undefined;
        if (!stored) throw err;
        if (stored.state === 'cancelling' && !TERMINAL_STATES.has(rec.state)) this.onCancelRequested(stored);
        rec.version = stored.version;
        // The owner's record now reflects the stored one (a cancel it was handed): write that, not the stale snapshot.
        snapshot = structuredClone(rec);
      }
    }
  }
}
