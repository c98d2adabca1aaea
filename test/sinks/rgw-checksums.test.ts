import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { createTestBucket, ensureRgw, type TestBucket } from '../helpers/rgw.js';

/**
 * Issue #19 point 3, a fact about the store before any code relies on it: which part checksums does
 * Ceph RGW (Debian's) verify? Each part is sent with a deliberately wrong value in one header and the
 * store's answer recorded: refused (400 BadDigest / InvalidDigest / XAmzContentChecksumMismatch) or
 * accepted. The upload stays on Content-MD5 for RGW as long as it is the one RGW refuses on.
 */
let bucket: TestBucket;
let client: S3Client;
before(async () => {
  bucket = await createTestBucket(await ensureRgw(), 'checksums');
  client = bucket.client;
  // What actually went on the wire: the SDK must not have dropped or recomputed the wrong value.
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      if (headers['x-amz-checksum-crc32c'] || headers['x-amz-checksum-crc64nvme']) sent.push({ ...headers });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordChecksumHeaders' },
  );
});
const sent: Array<Record<string, string>> = [];
after(async () => {
  await bucket?.remove();
});

const body = randomBytes(64 * 1024);
const md5 = createHash('md5').update(body).digest('base64');
const wrongCrc32c = Buffer.from([1, 2, 3, 4]).toString('base64');
const wrongCrc64 = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]).toString('base64');

async function answer(extra: Record<string, string>, algorithm?: 'CRC32C' | 'CRC64NVME'): Promise<string> {
  const key = `checksum-${Object.keys(extra).join('-')}`;
  const up = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: key, ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}) }));
  try {
    await client.send(new UploadPartCommand({ Bucket: bucket.name, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: body, ContentLength: body.length, ...extra }));
    return 'accepted';
  } catch (err) {
    return `refused ${(err as { name?: string }).name}`;
  } finally {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: key, UploadId: up.UploadId }));
  }
}

test('Ceph RGW: a wrong Content-MD5 is refused (the checksum vmxfer sends it)', async () => {
  assert.equal(await answer({ ContentMD5: md5 }), 'accepted');
  assert.match(await answer({ ContentMD5: createHash('md5').update('other').digest('base64') }), /^refused/);
});

test('Ceph RGW (Debian) accepts a part whose x-amz-checksum-crc32c or x-amz-checksum-crc64nvme is wrong: it does not verify them, so vmxfer keeps Content-MD5 there', async (t) => {
  const crc32c = await answer({ ChecksumCRC32C: wrongCrc32c }, 'CRC32C');
  const crc64 = await answer({ ChecksumCRC64NVME: wrongCrc64 }, 'CRC64NVME');
  t.diagnostic(`wrong CRC-32C: ${crc32c}; wrong CRC-64/NVME: ${crc64}`);
  assert.ok(sent.some((h) => h['x-amz-checksum-crc32c'] === wrongCrc32c), 'the wrong CRC-32C was sent as such');
  assert.ok(sent.some((h) => h['x-amz-checksum-crc64nvme'] === wrongCrc64), 'the wrong CRC-64/NVME was sent as such');
  assert.equal(crc32c, 'accepted');
  assert.equal(crc64, 'accepted');
});
