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

  /** Resolves once the record as it is when its turn comes is durable (or the failure is logged). */
  write(rec: JobRecord): Promise<void> {
    const next = (this.chains.get(rec.id) ?? Promise.resolve()).then(() => this.put(rec)).catch((err: unknown) => {
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

  private async put(rec: JobRecord): Promise<void> {
    for (let conflicts = 0; ; conflicts++) {
      try {
        const saved = await this.store.update(rec.id, rec.version, structuredClone(rec));
        rec.version = Math.max(rec.version, saved.version);
        return;
      } catch (err) {
        const stored = isVmxferError(err) && err.code === JOB.CONFLICT.code && conflicts < MAX_CONFLICTS ? await this.store.get(rec.id) : undefined;
        if (!stored) throw err;
        if (stored.state === 'cancelling' && !TERMINAL_STATES.has(rec.state)) this.onCancelRequested(stored);
        rec.version = stored.version;
      }
    }
  }
}
