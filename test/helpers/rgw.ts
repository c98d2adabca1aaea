import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '../../agent/sinks/s3/s3-client.js';
import { run } from './run-command.js';
import { REPO_ROOT } from './tmp.js';

export interface RgwEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A key of RGW's "testing" KMS backend, for SSE-KMS. */
  kmsKeyId: string;
  stateDir: string;
}

/** The machine's one test gateway; scripts/rgw/start.sh is idempotent and serialises parallel callers. */
export const RGW_STATE_DIR = join(REPO_ROOT, '.tmp', 'rgw');

let started: Promise<RgwEnv> | undefined;

/** Starts (or finds running) the loopback Ceph RGW and returns its endpoint and keys. */
export function ensureRgw(): Promise<RgwEnv> {
  started ??= (async () => {
    await run('bash', [join(REPO_ROOT, 'scripts', 'rgw', 'start.sh'), RGW_STATE_DIR]);
    const vars = Object.fromEntries(
      (await readFile(join(RGW_STATE_DIR, 'env'), 'utf8'))
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return {
      endpoint: vars.ENDPOINT!,
      accessKeyId: vars.AWS_ACCESS_KEY_ID!,
      secretAccessKey: vars.AWS_SECRET_ACCESS_KEY!,
      kmsKeyId: vars.KMS_KEY_ID!,
      stateDir: RGW_STATE_DIR,
    };
  })();
  return started;
}

export function rgwClient(env: RgwEnv): S3Client {
  return createS3Client({
    endpoint: env.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
}

export interface TestBucket {
  name: string;
  client: S3Client;
  /** Aborts pending uploads, deletes every object, then the bucket (memstore keeps it all in RAM). */
  remove(): Promise<void>;
}

/** A bucket of its own for one test file. */
export async function createTestBucket(env: RgwEnv, label: string): Promise<TestBucket> {
  const client = rgwClient(env);
  const name = `vmxfer-${label}-${randomBytes(4).toString('hex')}`.toLowerCase().slice(0, 63);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return { name, client, remove: () => emptyAndDeleteBucket(client, name) };
}

async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    if (!uploads.IsTruncated) break;
  }
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    if (!page.IsTruncated) break;
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
}
