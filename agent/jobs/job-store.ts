import type { JobRecord, JobState } from './job-types.js';

/** How many claimed jobs may run at once: under the claiming agent's name, and per destination key. */
export interface AdmissionLimits {
  /** Jobs running under `agent` (claimers without a name count together). */
  global: number;
  perDestination: number;
  /** The claiming agent's name: it takes jobs with its own affinity or none, and is recorded as the job's `agent`. */
  agent?: string | undefined;
}

/**
 * A record as the store wrote it, or the removal of one; or news that a job's owner lost its lease
 * (a shared store's engine saw it lapse): `recover` now puts it back in the queue.
 */
export type JobChange = { type: 'put'; record: JobRecord } | { type: 'removed'; id: string } | { type: 'orphaned'; id: string };

/** A job whose owner was gone, put back in the queue (or left to finish its cancel) by `recover`. */
export interface RecoveredJob {
  id: string;
  was: JobState;
}

/** The fields a writer may not set: the store keeps them. */
export type JobRecordPatch = Omit<JobRecord, 'id' | 'schema' | 'version'>;

/**
 * Where jobs live, for one daemon or for several sharing it. Every write is durable when its promise
 * resolves and moves `version` on by one; `update` is a compare-and-set on it (JOB_CONFLICT for a
 * stale writer). Admission limits are applied inside `claim`, so competing claimers cannot exceed
 * them or take the same job. Conformance: test/jobs/job-store-conformance.ts.
 */
export interface JobStore {
  /** Stores a new record (version 1, no owner); JOB_DUPLICATE_ID when the id is taken. */
  create(record: JobRecordPatch & { id: string }): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Oldest first; only the given states when `states` is set. */
  list(states?: ReadonlySet<JobState>): Promise<JobRecord[]>;
  /**
   * Takes queued jobs, higher `priority` first and oldest first within one priority, as far as the
   * limits allow and skipping jobs with another agent's affinity: each moves to `validating` with
   * `owner` and `agent` set.
   */
  claim(owner: string, limits: AdmissionLimits): Promise<JobRecord[]>;
  /** Replaces the record when its version is still `expectedVersion`; JOB_CONFLICT otherwise, JOB_NOT_FOUND when gone. */
  update(id: string, expectedVersion: number, next: JobRecordPatch): Promise<JobRecord>;
  /**
   * Moves an unfinished job to `cancelling` whatever its version; its owner sees the change in
   * `subscribe` (and as JOB_CONFLICT on its next write). JOB_NOT_FOUND, JOB_NOT_CANCELLABLE when finished.
   */
  requestCancel(id: string): Promise<JobRecord>;
  /** Jobs whose owner is gone: validating or active ones go back to `queued`, cancelling ones lose their owner. */
  recover(): Promise<RecoveredJob[]>;
  remove(id: string): Promise<void>;
  /** Every change after the call, in the order the store made them; returns the unsubscribe. */
  subscribe(listener: (change: JobChange) => void): () => void;
  close(): Promise<void>;
}
