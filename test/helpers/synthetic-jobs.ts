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

const AMI = 'ami-0f1e2d3c4b5a69788';
const COPY_WEST = 'ami-0a1b2c3d4e5f60718';
const COPY_FRANKFURT = 'ami-09f8e7d6c5b4a3921';

/**
 * `job` with every cloud outcome field docs/api.md "Job" defines filled in: an aws-snapshot import
 * registered as an AMI, copied to two regions and shared (one account refused), an ECS-style export
 * with two data disks, and the preflight's warning and repair. No daemon run produces all of them at
 * once; the page must show each, so one fixture carries them all.
 */
export function withCloudOutcome(job: Job): Job {
  const base = job.result ?? { etag: '"etag-outcome"', objectSize: 8 * 1024 * MiB, sourceSha256: 'a'.repeat(64), outputSha256: 'b'.repeat(64), seconds: 412.5 };
  return {
    ...job,
    result: {
      ...base,
      import: {
        target: 'aws-snapshot', taskIds: ['import-snap-0123456789abcdef0'], resourceIds: ['snap-0fedcba9876543210'],
        imageId: AMI, imageTaskId: 'import-ami-0abcdef0123456789',
        copies: [{ region: 'us-west-2', imageId: COPY_WEST }, { region: 'eu-central-1', imageId: COPY_FRANKFURT }],
        shares: [
          { region: 'us-east-1', imageId: AMI, accounts: [{ account: '123456789012', shared: true }, { account: '210987654321', shared: false, cloudCode: 'InvalidAMIAttributeItemValue', message: 'Invalid attribute item value "210987654321" for userId item type.' }] },
          { region: 'us-west-2', imageId: COPY_WEST, accounts: [{ account: '123456789012', shared: true }] },
        ],
      },
      export: { taskId: 't-exp0123456789abcd', bucket: 'exports-cn', key: 'web01_m-bp1exportimage01_system.qcow2', dataKeys: ['web01_m-bp1exportimage01_data1.qcow2', 'web01_m-bp1exportimage01_data2.qcow2'] },
      dataDisks: [
        { key: 'web01_m-bp1exportimage01_data1.qcow2', destination: '/images/web01.data1.qcow2', objectSize: 2 * 1024 * MiB, outputSha256: 'c'.repeat(64) },
        { key: 'web01_m-bp1exportimage01_data2.qcow2', destination: '/images/web01.data2.qcow2', objectSize: 512 * MiB, outputSha256: null },
      ],
    },
    preflight: [
      { severity: 'warning', rule: 'role-unverified', cloudCode: 'AccessDenied', message: 'the role vmimport could not be verified: GetRole was refused (AccessDenied)', hint: 'Grant iam:GetRole to check the role before uploading, or make sure vmimport exists and trusts vmie.amazonaws.com.' },
      { severity: 'repair', rule: 'vhd-differencing', cloudCode: 'ClientError', message: '/images/web01.vhd (vhd differencing): AWS refuses differencing VHDs', hint: 'vmxfer repairs this: merged with its parents into one stream-optimized VMDK during the upload.', convertTo: 'vmdk' },
    ],
    cloudTask: { kind: 'aws-copy', id: COPY_FRANKFURT, state: 'available', message: '' },
  };
}
