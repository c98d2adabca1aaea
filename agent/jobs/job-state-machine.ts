import { vmxError } from '../core/errors.js';
import { JOB } from './error-codes.js';
import type { JobState } from './job-types.js';

/**
 * The legal moves between job states. `active -> validating` happens when a job interrupted by a
 * stop or a crash is picked up again at the next start; `cancelling` always ends in `cancelled`.
 * `waiting`: a sync job between two passes (docs/api.md "Sync jobs"); the next pass makes it active.
 */
const NEXT: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['validating', 'cancelling', 'cancelled'],
  validating: ['active', 'failed', 'cancelling', 'queued'],
  active: ['completed', 'failed', 'cancelling', 'queued', 'waiting'],
  waiting: ['active', 'completed', 'failed', 'cancelling', 'queued'],
  cancelling: ['cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function canMove(from: JobState, to: JobState): boolean {
  return NEXT[from].includes(to);
}

export function assertMove(id: string, from: JobState, to: JobState): void {
  if (!canMove(from, to)) throw vmxError(JOB.BAD_TRANSITION, `job ${id} cannot move from ${from} to ${to}`);
}
