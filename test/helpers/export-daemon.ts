import { rm } from 'node:fs/promises';
import { startDaemon, type TestDaemon } from './daemon.js';
import { Ec2QueryFake } from './ec2-query-fake/server.js';
import { exportCanonicalAccount } from '../../agent/cloud/preflight/canonical-accounts.js';

/**
 * A bucket VM Export can write (User Guide, "Prerequisites for exporting"): ACLs enabled, WRITE and
 * READ_ACP granted to the region's VM Import/Export account, no SSE-KMS. Export jobs check it first.
 */
export function readyExportBucket(ec2: Ec2QueryFake, name = 'exp', region = 'eu-west-1'): void {
  const account = exportCanonicalAccount(region);
  ec2.buckets.set(name, { ownership: 'BucketOwnerPreferred', grants: [{ id: account, permission: 'WRITE' }, { id: account, permission: 'READ_ACP' }] });
}

/** A daemon whose cloud and S3 store are both the EC2 Query API protocol fake, as export jobs need. */
export interface ExportDaemon {
  ec2: Ec2QueryFake;
  d: TestDaemon;
  close(): Promise<void>;
}

/** The export lands in the fake's own path-style S3, so the daemon's S3 store is the fake too. */
export async function startExportDaemon(accessKeyId: string): Promise<ExportDaemon> {
  const ec2 = await Ec2QueryFake.start();
  readyExportBucket(ec2);
  const d = await startDaemon({
    env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'fake', AWS_EC2_METADATA_DISABLED: 'true' },
    config: {
      stores: { s3_endpoint: ec2.url, s3_region: 'eu-west-1', s3_path_style: true },
      cloud: { aws_endpoint: ec2.url, poll_seconds: 0.01 },
      transfer: { part_size: '128KiB' },
    },
  });
  return {
    ec2,
    d,
    async close() {
      await d.stop();
      await rm(d.stateDir, { recursive: true, force: true });
      await ec2.close();
    },
  };
}
