import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { FileSink } from '../../agent/sinks/file/file-sink.js';
import { OssSink } from '../../agent/sinks/oss/oss-sink.js';
import { S3Sink } from '../../agent/sinks/s3/s3-sink.js';
import { retryingSink, type RetryPolicy } from '../../agent/sinks/retrying-sink.js';
import type { ObjectSink } from '../../agent/sinks/object-sink.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from './oss-protocol-server/oss-protocol-fake.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from './rgw.js';
import { MiB } from '../../agent/core/units.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

/** Short backoff for tests: the policy is the real decorator, only the waits are smaller. */
export const FAST_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 20, maxDelayMs: 200 };

/** One store the transfer tests run against, with a way to read objects back independently of vmxfer. */
export interface TestStore {
  kind: 'file' | 's3' | 'oss';
  /** URL of `key` in this store. */
  url(key: string): string;
  sink(retry?: RetryPolicy, endpoint?: string): ObjectSink;
  /** Environment and flags for the real CLI. */
  cliEnv: NodeJS.ProcessEnv;
  cliFlags(endpoint?: string): string[];
  /** SHA-256 of an object, read without vmxfer's code (SDK GetObject, the fake's memory, the file). */
  objectSha256(key: string): Promise<string>;
  close(): Promise<void>;
}

export async function fileStore(dir: string): Promise<TestStore> {
  const bucket = join(dir, 'bucket');
  await mkdir(bucket, { recursive: true });
  const { sha256File } = await import('./hash.js');
  return {
    kind: 'file',
    url: (key) => `file://${bucket}/${key}`,
    sink: (retry = FAST_RETRY) => retryingSink(new FileSink(bucket), retry),
    cliEnv: {},
    cliFlags: () => [],
    objectSha256: (key) => sha256File(join(bucket, key)),
    close: async () => undefined,
  };
}

export async function s3Store(label: string): Promise<TestStore & { env: RgwEnv; bucket: TestBucket }> {
  const env = await ensureRgw();
  const bucket = await createTestBucket(env, label);
  const made: S3Sink[] = [];
  return {
    kind: 's3',
    env,
    bucket,
    url: (key) => `s3://${bucket.name}/${key}`,
    sink: (retry = FAST_RETRY, endpoint = env.endpoint) => {
      const s = new S3Sink({ bucket: bucket.name, endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } });
      made.push(s);
      return retryingSink(s, retry);
    },
    cliEnv: { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '' },
    cliFlags: (endpoint = env.endpoint) => ['--endpoint', endpoint, '--path-style'],
    async objectSha256(key) {
      const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
      const h = createHash('sha256');
      for await (const c of out.Body as AsyncIterable<Buffer>) h.update(c);
      return h.digest('hex');
    },
    close: async () => {
      for (const s of made) s.client.destroy();
      await bucket.remove();
    },
  };
}

export async function ossStore(bucketName: string): Promise<TestStore & { fake: OssProtocolFake }> {
  const fake = await startOssProtocolFake({ buckets: [bucketName], capacityBytes: 400 * MiB });
  const made: OssSink[] = [];
  return {
    kind: 'oss',
    fake,
    url: (key) => `oss://${bucketName}/${key}`,
    sink: (retry = FAST_RETRY) => {
      const s = new OssSink({ bucket: bucketName, endpoint: fake.endpoint, sldEnable: true, accessKeyId: FAKE_ACCESS_KEY_ID, accessKeySecret: FAKE_ACCESS_KEY_SECRET, env: {} });
      made.push(s);
      return retryingSink(s, retry);
    },
    cliEnv: { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET },
    cliFlags: () => ['--endpoint', fake.endpoint, '--path-style'],
    async objectSha256(key) {
      const obj = fake.store.bucket(bucketName).objects.get(key);
      if (!obj) throw new Error(`no object ${key} in the OSS protocol fake`);
      return createHash("sha256").update(obj.body).digest('hex');
    },
    close: async () => {
      for (const s of made) s.close();
      await fake.close();
    },
  };
}

/** A network store with a fault proxy in front of its endpoint. */
export interface ProxiedStore {
  name: string;
  store: TestStore;
  proxy: FaultProxy;
}

/** RGW and the OSS protocol server, each behind its own fault proxy; `close` stops all four. */
export async function proxiedNetworkStores(label: string): Promise<{ stores: ProxiedStore[]; close(): Promise<void> }> {
  const s3 = await s3Store(label);
  const oss = await ossStore(`vmxfer-${label}`);
  const stores = [
    { name: 's3 (RGW)', store: s3 as TestStore, proxy: await startFaultProxy(s3.env.endpoint) },
    { name: 'oss (protocol server)', store: oss as TestStore, proxy: await startFaultProxy(oss.fake.endpoint) },
  ];
  return {
    stores,
    close: async () => {
      for (const s of stores) {
        await s.proxy.close();
        await s.store.close();
      }
    },
  };
}
