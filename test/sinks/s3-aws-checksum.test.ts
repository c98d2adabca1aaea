import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { S3Sink, type S3SinkOptions } from '../../agent/sinks/s3/s3-sink.js';
import { defaultS3Checksum } from '../../agent/sinks/s3/s3-checksum.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import { crc64, crc64ToS3 } from '../../agent/hashing/crc64.js';
import { crc32c, crc32cToS3 } from '../../agent/hashing/crc32c.js';
import type { S3PartChecksum } from '../../agent/sinks/s3/s3-checksum.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { startAwsS3ChecksumFake, type AwsS3ChecksumFake } from '../helpers/aws-s3-checksum-fake.js';
import { rejectsWithCode, runSinkConformance } from './sink-conformance.js';

/**
 * The S3 sink with AWS's capability (x-amz-checksum-crc32c, AWS's default here, or
 * x-amz-checksum-crc64nvme per part, and the FULL_OBJECT CRC of the same algorithm) against the
 * AWS S3 checksum PROTOCOL FAKE in front of a real Ceph RGW: RGW stores the bytes, the fake applies
 * AWS's checksum rules, which RGW does not (test/sinks/rgw-checksums.test.ts).
 */
const CRCS: ReadonlyArray<{ algorithm: 'crc32c' | 'crc64nvme'; name: string; header: string; of: (b: Buffer) => string }> = [
  { algorithm: 'crc32c', name: 'CRC-32C', header: 'x-amz-checksum-crc32c', of: (b) => crc32cToS3(crc32c(b)) },
  { algorithm: 'crc64nvme', name: 'CRC-64/NVME', header: 'x-amz-checksum-crc64nvme', of: (b) => crc64ToS3(crc64('nvme', b)) },
];

function sinkFor(env: RgwEnv, endpoint: string, over: Partial<S3SinkOptions> & { bucket: string; checksum: S3PartChecksum }): S3Sink {
  return new S3Sink({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    listPageSize: 2,
    ...over,
  });
}

for (const { algorithm, name } of CRCS) {
runSinkConformance(`S3 sink with ${name} against the AWS S3 checksum protocol fake in front of Ceph RGW`, async () => {
  const env = await ensureRgw();
  const fake = await startAwsS3ChecksumFake(env.endpoint);
  const bucket = await createTestBucket(env, `aws-${algorithm}`);
  const sinks = [
    sinkFor(env, fake.endpoint, { checksum: algorithm, bucket: bucket.name }),
    sinkFor(env, fake.endpoint, { checksum: algorithm, bucket: bucket.name, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: 'not-the-secret-' + randomBytes(8).toString('hex') } }),
    sinkFor(env, fake.endpoint, { checksum: algorithm, bucket: bucket.name, credentials: { accessKeyId: 'NOSUCHKEY' + randomBytes(6).toString('hex').toUpperCase(), secretAccessKey: env.secretAccessKey } }),
    sinkFor(env, fake.endpoint, { checksum: algorithm, bucket: `${bucket.name}-missing` }),
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
      const s = sinkFor(env, endpoint, { checksum: algorithm, bucket: bucket.name, stallTimeoutMs: opts?.stallTimeoutMs });
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
}

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

test('the S3 part checksum defaults to CRC-32C on AWS endpoints and to Content-MD5 on any other S3 endpoint', () => {
  assert.equal(defaultS3Checksum(undefined, {}), 'crc32c');
  assert.equal(defaultS3Checksum('https://s3.eu-west-1.amazonaws.com', {}), 'crc32c');
  assert.equal(defaultS3Checksum('https://s3.cn-north-1.amazonaws.com.cn', {}), 'crc32c');
  assert.deepEqual(new S3Sink({ bucket: 'b', region: 'us-east-1' }).capabilities, { partChecksum: 'crc32c', objectChecksum: 'crc32c', multipartEtag: true });
  assert.equal(defaultS3Checksum(undefined, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480' }), 'md5');
  assert.equal(defaultS3Checksum('http://127.0.0.1:7480', {}), 'md5');
  assert.equal(defaultS3Checksum('https://amazonaws.com.example.org', {}), 'md5');
  assert.equal(new S3Sink({ bucket: 'b', endpoint: 'http://127.0.0.1:1', region: 'us-east-1' }).capabilities.partChecksum, 'md5');
});

for (const { algorithm, name, header, of } of CRCS) {
test(`AWS capability: parts carry only ${header} (no MD5 is computed), and Complete sends the full-object ${name} folded from the parts, which the AWS S3 checksum protocol fake checks`, async () => {
  const sink = sinkFor(env, fake.endpoint, { checksum: algorithm, bucket: bucket.name });
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
  const parts = sent.filter((h) => h[header] !== undefined && h['content-md5'] === undefined);
  assert.equal(parts.length, 2, `both parts went out with ${header} and without Content-MD5`);
  assert.equal(refs[1]!.checksums?.[algorithm], of(bodies[1]!));
  const whole = of(Buffer.concat(bodies));
  const info = await sink.completeUpload(key, id, refs);
  const completeHeaders = sent.find((h) => h['x-amz-checksum-type'] === 'FULL_OBJECT' && h[header] !== undefined);
  assert.equal(completeHeaders?.[header], whole, `Complete carried the combined ${name} (no second pass over the bytes)`);
  assert.equal(info.checksums?.[algorithm], whole, `HEAD reports the full-object ${name}`);
  await sink.deleteObject(key);

  const id2 = await sink.createUpload(key, {});
  const refs2 = [await sink.uploadPart(key, id2, 1, bodies[0]!), await sink.uploadPart(key, id2, 2, bodies[1]!)];
  const before = fake.refused.completes;
  const wrong = refs2.map((r, i) => (i === 1 ? { ...r, checksums: { [algorithm]: of(Buffer.from('other')) } } : r));
  await rejectsWithCode(sink.completeUpload(key, id2, wrong), STORE.BAD_DIGEST, false);
  assert.equal(fake.refused.completes, before + 1, 'the fake refused a full-object checksum that is not the parts\'');
  await sink.abortUpload(key, id2);
  sink.client.destroy();
});
}
