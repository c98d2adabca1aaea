import { newJobId } from '../../agent/jobs/job-id.js';
import type { JobRecordPatch } from '../../agent/jobs/job-store.js';
import { emptyProgress } from '../../agent/jobs/job-types.js';

let clock = Date.UTC(2026, 11, 7, 8, 0, 0);

/** A queued upload as a store is given it; each one created a millisecond after the last, so the order is known. */
export function newRecord(overrides: Partial<JobRecordPatch> & { id?: string } = {}): JobRecordPatch & { id: string } {
  clock++;
  return {
    id: newJobId(clock), owner: null, destinationKey: 's3://bucket@eu-west-1', steps: {},
    kind: 'upload', state: 'queued', phase: null, source: '/images/disk.vmdk', destination: 's3://bucket/disk.vmdk', format: 'vmdk', options: {},
    createdAt: new Date(clock).toISOString(), startedAt: null, finishedAt: null, progress: emptyProgress(), result: null, error: null, attempts: 0,
    import: null, cloudTask: null,
    ...overrides,
  };
}
