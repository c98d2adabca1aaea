import type { Job, JobState } from './api-types.js';

/**
 * How far along the daemon's state machine (agent/jobs/job-state-machine.ts) a state lies. The feed
 * reports moves in order, but an HTTP reply can reach the page after feed messages that are newer
 * than it: a cancel answered "cancelling" read after the feed's "cancelled".
 */
// A sync job moves between active and waiting both ways (docs/api.md "Sync jobs"): neither is older than the other.
const PROGRESS: Readonly<Record<JobState, number>> = { queued: 0, validating: 1, active: 2, waiting: 2, cancelling: 3, completed: 4, failed: 4, cancelled: 4 };

/** True when `reply` is older than what the page already shows (`current`): the reply must not win. */
export function isStaleReply(current: Job | undefined, reply: Job): boolean {
  return current !== undefined && PROGRESS[reply.state] < PROGRESS[current.state];
}
