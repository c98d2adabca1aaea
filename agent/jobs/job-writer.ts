import type { Logger } from 'pino';
import { isVmxferError, vmxError } from '../core/errors.js';
import { JOB } from './error-codes.js';
import type { JobStore } from './job-store.js';
import { TERMINAL_STATES, type JobRecord } from './job-types.js';

/** A conflict is a cancel request or a second writer; past this many in a row something is wrong. */
const MAX_CONFLICTS = 3;

/** The error of a write or a fence check by a runner whose job another runner took over. */
export function fencedError(id: string, stored: Pick<JobRecord, 'owner' | 'agent'> | undefined): Error {
  const now = stored?.owner ? `runner ${stored.owner}${stored.agent ? ` of agent ${stored.agent}` : ''}` : 'nobody (it was put back in the queue)';
  return vmxError(JOB.FENCED, `job ${id} is no longer this runner's: its lease ran out and it belongs to ${now}`);
}

/**
 * Writes the records a runner owns, one write at a time per job, each a compare-and-set on the
 * version the runner last saw. On JOB_CONFLICT it reads the stored record: a cancel request is
 * handed to `onCancelRequested` (the run stops), and the write goes again on the stored version.
 * A job the runner claimed (`own`) whose stored owner is another runner was taken over: that is
 * JOB_FENCED, handed to `onFenced`, and nothing is written for the job again.
 */
export class JobWriter {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly owned = new Set<string>();
  private readonly fenced = new Set<string>();

  constructor(
    private readonly store: JobStore,
    private readonly onCancelRequested: (stored: JobRecord) => void,
    private readonly log: Logger,
    /** The runner's owner name, as it claims; absent: no job is claimed through this writer. */
    private readonly owner?: string,
    private readonly onFenced: (id: string, stored: JobRecord | undefined) => void = () => undefined,
  ) {}

  /** The runner claimed the job: a stored owner other than `owner` now means it was taken over. */
  own(id: string): void {
    this.owned.add(id);
    this.fenced.delete(id);
  }

  /** The run ended: once its writes are done, the job is no longer watched for a takeover. */
  disown(id: string): void {
    void (this.chains.get(id) ?? Promise.resolve()).then(() => this.owned.delete(id));
  }

  isFenced(id: string): boolean {
    return this.fenced.has(id);
  }

  /**
   * The fence: a compare-and-set write of the record as it is now, so that it fails with JOB_FENCED
   * once another runner holds the job (its takeover moved the version and the owner on).
   */
  async touch(rec: JobRecord): Promise<void> {
    await this.write(rec);
    if (this.fenced.has(rec.id)) throw fencedError(rec.id, undefined);
  }

  /**
   * Resolves once the record as it is now is durable (or the failure is logged). Each write stores its
   * own snapshot, in order: a state that lasts less than a write (a copy turning available just
   * before the shares start) still reaches the store's change stream, the feed and the dashboard.
   */
  write(rec: JobRecord): Promise<void> {
    if (this.fenced.has(rec.id)) return Promise.resolve();
    const snapshot = structuredClone(rec);
    const next = (this.chains.get(rec.id) ?? Promise.resolve()).then(() => this.put(rec, snapshot)).catch((err: unknown) => {
      const code = isVmxferError(err) ? err.code : undefined;
      this.log[code === JOB.FENCED.code ? 'warn' : 'error']({ job: rec.id, code, err: (err as Error).message }, 'could not persist a job record');
    });
    this.chains.set(rec.id, next);
    void next.then(() => this.chains.get(rec.id) === next && this.chains.delete(rec.id));
    return next;
  }

  /** The job was taken over (seen in a write's conflict or in the store's changes): no write for it again. */
  takenOver(id: string, stored: JobRecord | undefined): void {
    if (this.fenced.has(id)) return;
    this.fenced.add(id);
    this.onFenced(id, stored);
  }

  private fence(id: string, stored: JobRecord | undefined): never {
    this.takenOver(id, stored);
    throw fencedError(id, stored);
  }

  /** Every write queued so far has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  private async put(rec: JobRecord, written: JobRecord): Promise<void> {
    let snapshot = written;
    for (let conflicts = 0; ; conflicts++) {
      // A write queued before the takeover was seen is not sent either.
      if (this.fenced.has(rec.id)) throw fencedError(rec.id, undefined);
      try {
        const saved = await this.store.update(rec.id, rec.version, snapshot);
        rec.version = Math.max(rec.version, saved.version);
        return;
      } catch (err) {
        const conflict = isVmxferError(err) && err.code === JOB.CONFLICT.code;
        const stored = conflict ? await this.store.get(rec.id) : undefined;
        if (conflict && this.owned.has(rec.id) && stored?.owner !== this.owner) return this.fence(rec.id, stored);
        if (!stored || conflicts >= MAX_CONFLICTS) throw err;
        if (stored.state === 'cancelling' && !TERMINAL_STATES.has(rec.state)) this.onCancelRequested(stored);
        rec.version = stored.version;
        // The owner's record now reflects the stored one (a cancel it was handed): write that, not the stale snapshot.
        snapshot = structuredClone(rec);
      }
    }
  }
}
