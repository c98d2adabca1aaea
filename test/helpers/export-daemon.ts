import { rm } from 'node:fs/promises';
import { startDaemon, type TestDaemon } from './daemon.js';
import { Ec2QueryFake } from './ec2-query-fake/server.js';
import { exportCanonicalAccount } from '../../agent/cloud/preflight/canonical-accounts.js';
import { createTestBucket, ensureRgw, type TestBucket } from './rgw.js';
import { landExportsIn } from './rgw-export-landing.js';

/**
 * A bucket VM Export can write (User Guide, "Prerequisites for exporting"): ACLs enabled, WRITE and
 * READ_ACP granted to the region's VM Import/Export account, no SSE-KMS. Export jobs check it first.
 */
export function readyExportBucket(ec2: Ec2QueryFake, name = 'exp', region = 'eu-west-1'): void {
  const account = exportCanonicalAccount(region)!;
  ec2.buckets.set(name, { ownership: 'BucketOwnerPreferred', grants: [{ id: account, permission: 'WRITE' }, { id: account, permission: 'READ_ACP' }] });
}

/** A daemon whose EC2 endpoint is the EC2 Query API protocol fake; its S3 store is the fake or RGW. */
export interface ExportDaemon {
  ec2: Ec2QueryFake;
  d: TestDaemon;
  close(): Promise<void>;
}

async function exportDaemon(ec2: Ec2QueryFake, env: Record<string, string>, stores: Record<string, unknown>, cleanup: () => Promise<void>): Promise<ExportDaemon> {
  const d = await startDaemon({
    env: { ...env, AWS_EC2_METADATA_DISABLED: 'true' },
    config: { stores: { ...stores, s3_path_style: true }, cloud: { aws_endpoint: ec2.url, poll_seconds: 0.01 }, transfer: { part_size: '128KiB' } },
  });
  return {
    ec2,
    d,
    async close() {
      await d.stop();
      await rm(d.stateDir, { recursive: true, force: true });
      await ec2.close();
      await cleanup();
    },
  };
}

/** The export lands in the fake's own path-style S3, so the daemon's S3 store is the fake too (bucket checks on the fake). */
export async function startExportDaemon(accessKeyId: string): Promise<ExportDaemon> {
  const ec2 = await Ec2QueryFake.start();
  readyExportBucket(ec2);
  return exportDaemon(ec2, { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'fake' }, { s3_endpoint: ec2.url, s3_region: 'eu-west-1' }, async () => undefined);
}

export type RgwExportDaemon = ExportDaemon & { bucket: TestBucket };

/**
 * The control plane on the fake (cloud.aws_endpoint), the data plane on the real RGW (stores.s3_endpoint):
 * the fake writes each completed export's object into `bucket`. RGW keeps no grants for AWS's VM
 * Import/Export accounts, so jobs on it pass `preflight: false` (the bucket checks run on the fake above).
 */
export async function startRgwExportDaemon(label: string): Promise<RgwExportDaemon> {
  const rgw = await ensureRgw();
  const bucket = await createTestBucket(rgw, label);
  const ec2 = await Ec2QueryFake.start();
  landExportsIn(ec2, bucket);
  const world = await exportDaemon(ec2, { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey }, { s3_endpoint: rgw.endpoint, s3_region: 'us-east-1' }, () => bucket.remove());
  return { ...world, bucket };
}
