import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { S3Sink, type S3SinkOptions } from '../../agent/sinks/s3/s3-sink.js';
import { defaultS3Checksum } from '../../agent/sinks/s3/s3-checksum.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import { crc64, crc64ToS3 } from '../../agent/hashing/crc64.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { startAwsS3ChecksumFake, type AwsS3ChecksumFake } from '../helpers/aws-s3-checksum-fake.js';
import { rejectsWithCode, runSinkConformance } from './sink-conformance.js';

/**
 * The S3 sink with AWS's capability (x-amz-checksum-crc64nvme per part, FULL_OBJECT CRC-64/NVME)
 * against the AWS S3 checksum PROTOCOL FAKE in front of a real Ceph RGW: RGW stores the bytes, the
 * fake applies AWS's checksum rules, which RGW does not (test/sinks/rgw-checksums.test.ts).
 */
function sinkFor(env: RgwEnv, endpoint: string, over: Partial<S3SinkOptions> & { bucket: string }): S3Sink {
  return new S3Sink({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    listPageSize: 2,
    checksum: 'crc64nvme',
    ...over,
  });
}

runSinkConformance('S3 sink with CRC-64/NVME against the AWS S3 checksum protocol fake in front of Ceph RGW', async () => {
  const env = await ensureRgw();
  const fake = await startAwsS3ChecksumFake(env.endpoint);
  const bucket = await createTestBucket(env, 'aws-crc');
  const sinks = [
    sinkFor(env, fake.endpoint, { bucket: bucket.name }),
    sinkFor(env, fake.endpoint, { bucket: bucket.name, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: 'not-the-secret-' + randomBytes(8).toString('hex') } }),
    sinkFor(env, fake.endpoint, { bucket: bucket.name, credentials: { accessKeyId: 'NOSUCHKEY' + randomBytes(6).toString('hex').toUpperCase(), secretAccessKey: env.secretAccessKey } }),
    sinkFor(env, fake.endpoint, { bucket: `${bucket.name}-missing` }),
  ] as const;
  const proxied: S3Sink[] = [];
  return {
    sink: sinks[0],
    wrongSecret: sinks[1],
    unknownAccessKey: sinks[2],
    missingBucket: sinks[3],
    endpoint: fake.endpoint,
    // The fake forwards UploadPartCopy to RGW, which ignores the condition (test/sinks/s3-sink.test.ts).
    copyIgnoresIfMatch: 'the AWS checksum fake forwards UploadPartCopy to Ceph RGW, which copies the range whatever x-amz-copy-source-if-match says',
    viaEndpoint: (endpoint: string, opts?: { stallTimeoutMs?: number }) => {
      const s = sinkFor(env, endpoint, { bucket: bucket.name, stallTimeoutMs: opts?.stallTimeoutMs });
      proxied.push(s);
      return s;
    },
    cleanup: async () => {
      await bucket.remove();
      for (const s of [...sinks, ...proxied]) s.client.destroy();
      await fake.close();
    },
  };
});

let env: RgwEnv;
let fake: AwsS3ChecksumFake;
let bucket: TestBucket;
before(async () => {
  env = await ensureRgw();
  fake = await startAwsS3ChecksumFake(env.endpoint);
  bucket = await createTestBucket(env, 'aws-crc-rules');
});
after(async () => {
  await bucket?.remove();
  await fake?.close();
});

test('the S3 part checksum defaults to CRC-64/NVME on AWS endpoints and to Content-MD5 on any other S3 endpoint', () => {
  assert.equal(defaultS3Checksum(undefined, {}), 'crc64nvme');
  assert.equal(defaultS3Checksum('https://s3.eu-west-1.amazonaws.com', {}), 'crc64nvme');
  assert.equal(defaultS3Checksum('https://s3.cn-north-1.amazonaws.com.cn', {}), 'crc64nvme');
  assert.equal(defaultS3Checksum(undefined, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480' }), 'md5');
  assert.equal(defaultS3Checksum('http://127.0.0.1:7480', {}), 'md5');
  assert.equal(defaultS3Checksum('https://amazonaws.com.example.org', {}), 'md5');
  assert.equal(new S3Sink({ bucket: 'b', endpoint: 'http://127.0.0.1:1', region: 'us-east-1' }).capabilities.partChecksum, 'md5');
});

test('AWS capability: parts carry only x-amz-checksum-crc64nvme (no MD5 is computed), and Complete sends the full-object CRC-64/NVME folded from the parts, which the AWS S3 checksum protocol fake checks', async () => {
  const sink = sinkFor(env, fake.endpoint, { bucket: bucket.name });
  const sent: Array<Record<string, string>> = [];
  sink.client.middlewareStack.add(
    (next) => async (args) => {
      sent.push({ ...((args.request as { headers?: Record<string, string> }).headers ?? {}) });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordHeaders' },
  );
  const bodies = [randomBytes(5 * 1024 * 1024), randomBytes(777)];
  const key = 'full-object.img';
  const id = await sink.createUpload(key, {});
  const refs = [await sink.uploadPart(key, id, 1, bodies[0]!), await sink.uploadPart(key, id, 2, bodies[1]!)];
  const parts = sent.filter((h) => h['x-amz-checksum-crc64nvme'] !== undefined && h['content-md5'] === undefined);
  assert.equal(parts.length, 2, 'both parts went out with x-amz-checksum-crc64nvme and without Content-MD5');
  assert.equal(refs[1]!.checksums?.crc64nvme, crc64ToS3(crc64('nvme', bodies[1]!)));
  const whole = crc64ToS3(crc64('nvme', Buffer.concat(bodies)));
  const info = await sink.completeUpload(key, id, refs);
  const completeHeaders = sent.find((h) => h['x-amz-checksum-type'] === 'FULL_OBJECT' && h['x-amz-checksum-crc64nvme'] !== undefined);
  assert.equal(completeHeaders?.['x-amz-checksum-crc64nvme'], whole, 'Complete carried the combined CRC-64/NVME (no second pass over the bytes)');
  assert.equal(info.checksums?.crc64nvme, whole, 'HEAD reports the full-object CRC-64/NVME');
  await sink.deleteObject(key);

  const id2 = await sink.createUpload(key, {});
  const refs2 = [await sink.uploadPart(key, id2, 1, bodies[0]!), await sink.uploadPart(key, id2, 2, bodies[1]!)];
  const before = fake.refused.completes;
  const wrong = refs2.map((r, i) => (i === 1 ? { ...r, checksums: { crc64nvme: crc64ToS3(crc64('nvme', Buffer.from('other'))) } } : r));
  await rejectsWithCode(sink.completeUpload(key, id2, wrong), STORE.BAD_DIGEST, false);
  assert.equal(fake.refused.completes, before + 1, 'the fake refused a full-object checksum that is not the parts\'');
  await sink.abortUpload(key, id2);
  sink.client.destroy();
});
