import { randomBytes } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureRgw, createTestBucket, type RgwEnv, type TestBucket } from './rgw.js';
import { tempDir } from './tmp.js';
import { Ec2QueryFake } from './ec2-query-fake/server.js';
import { COPY_SCRIPT } from './ec2-query-fake/fake-state.js';
import { startDaemon, waitForJob, type TestDaemon } from './daemon.js';

/** What the upload-then-import tests share: a small raw disk, a fresh bucket on the real RGW, an EC2 Query API protocol fake. */
export interface ImportWorld {
  dir: string;
  /** 1 MiB of random bytes, then zeros up to the size asked for. */
  raw: string;
  rgw: RgwEnv;
  bucket: TestBucket;
  ec2: Ec2QueryFake;
  close(): Promise<void>;
}

export async function importWorld(bucketPrefix: string, sizeMiB: number): Promise<ImportWorld> {
  const { dir, cleanup } = await tempDir();
  const raw = join(dir, 'disk.raw');
  await writeFile(raw, randomBytes(1024 * 1024));
  await truncate(raw, sizeMiB * 1024 * 1024);
  const rgw = await ensureRgw();
  const bucket = await createTestBucket(rgw, bucketPrefix);
  const ec2 = await Ec2QueryFake.start();
  return {
    dir, raw, rgw, bucket, ec2,
    async close() {
      await ec2.close();
      await bucket.remove();
      await cleanup();
    },
  };
}

/** A daemon storing to the world's RGW bucket (region us-east-1) and importing through its EC2 fake, polling fast. */
export function startImportDaemon(world: ImportWorld): Promise<TestDaemon> {
  return startDaemon({
    sourceRoots: [world.dir],
    env: { AWS_ACCESS_KEY_ID: world.rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: world.rgw.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' },
    config: {
      stores: { s3_endpoint: world.rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true },
      cloud: { aws_endpoint: world.ec2.url, poll_seconds: 0.01 },
    },
  });
}

/** One test's import daemon: stopped and its state removed afterwards, the fake's copy script put back. */
export async function withImportDaemon(world: ImportWorld, fn: (d: TestDaemon) => Promise<void>): Promise<void> {
  const d = await startImportDaemon(world);
  try {
    await fn(d);
  } finally {
    world.ec2.world.scripts.copy = COPY_SCRIPT;
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
}

/** CopyImage calls that really copy (not the DryRun before them) for one source AMI. */
export function realCopies(ec2: Ec2QueryFake, source: string) {
  return ec2.callsOf('CopyImage').filter((c) => c.params.SourceImageId === source && c.params.DryRun !== 'true');
}

/** The cloud finishes a stuck import task while the daemon is back; then the job's end. */
export async function finishImport(d: TestDaemon, ec2: Ec2QueryFake, taskId: string, jobId: string) {
  const task = ec2.world.tasks.get(taskId)!;
  task.script = [{ status: 'updating', message: 'updating', progress: '80' }, { status: 'completed', message: '' }];
  task.step = 0;
  const done = await waitForJob(d, jobId, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
  return { task, done };
}
