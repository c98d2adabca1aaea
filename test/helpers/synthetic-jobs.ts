import type { Job, Part, PartState } from '../../agent/dashboard/client/api-types.js';

/**
 * Contract-shaped jobs (docs/api.md "Job") for tests of the page's rendering that need more than a
 * local daemon can produce (200 jobs, 10,000 parts). Deterministic: job i always looks the same.
 */
const STATES = ['active', 'active', 'active', 'queued', 'completed', 'failed', 'validating', 'cancelled'] as const;
const MiB = 1024 * 1024;

export function syntheticJob(i: number, partsTotal = 64): Job {
  const state = STATES[i % STATES.length]!;
  const totalBytes = partsTotal * 16 * MiB;
  const done = state === 'completed' ? partsTotal : Math.floor((i * 7) % partsTotal);
  return {
    id: `j-20261123-${String(i).padStart(6, '0')}`,
    kind: 'upload',
    state,
    phase: state === 'active' ? 'uploading' : null,
    source: `/images/rack${i % 12}/vm-${String(i).padStart(4, '0')}-system-disk.vmdk`,
    destination: `s3://migration-bucket/datacenter-east/vm-${String(i).padStart(4, '0')}/disk0.vmdk`,
    format: ['vmdk', 'vhd', 'qcow2', 'raw'][i % 4]!,
    createdAt: new Date(Date.UTC(2026, 10, 23, 8, 0, i)).toISOString(),
    startedAt: state === 'queued' ? null : new Date(Date.UTC(2026, 10, 23, 8, 1, i)).toISOString(),
    finishedAt: ['completed', 'failed', 'cancelled'].includes(state) ? new Date(Date.UTC(2026, 10, 23, 9, 0, i)).toISOString() : null,
    progress: progressOf(done * 16 * MiB, totalBytes, partsTotal, done),
    result: state === 'completed' ? { etag: `"etag-${i}-${partsTotal}"`, objectSize: totalBytes, sourceSha256: 'a'.repeat(64), outputSha256: 'b'.repeat(64), seconds: 93.4 } : null,
    error: state === 'failed' ? { code: 'STORE_NO_SUCH_BUCKET', category: 'remote', message: `s3://migration-bucket: the bucket does not exist (job ${i})` } : null,
    cloudTask: null,
    attempts: 1,
  };
}

export function progressOf(bytesRead: number, totalBytes: number, partsTotal: number, partsDone: number): Job['progress'] {
  return {
    bytesRead, totalBytes, bytesWritten: bytesRead, rate: 40 * MiB + (bytesRead % (7 * MiB)),
    etaSeconds: Math.round((totalBytes - bytesRead) / (40 * MiB)), partsDone, partsInFlight: 4, partsTotal, partSize: 16 * MiB,
  };
}

/** Parts 1..total: the first `done` done, the next four in flight, the rest pending. */
export function syntheticParts(total: number, done: number): Part[] {
  return Array.from({ length: total }, (_, i): Part => ({ n: i + 1, state: partState(i, done) }));
}

function partState(i: number, done: number): PartState {
  if (i < done) return 'done';
  if (i < done + 4) return 'in-flight';
  return 'pending';
}

/** A throughput history like the daemon's: one sample every 2 s for the last `seconds`. */
export function syntheticThroughput(seconds: number, now = Math.floor(Date.now() / 1000)): Array<[number, number]> {
  return Array.from({ length: seconds / 2 }, (_, i): [number, number] => [now - seconds + i * 2, (35 + 10 * Math.sin(i / 9)) * MiB]);
}
