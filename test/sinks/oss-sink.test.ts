import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createHmac } from 'node:crypto';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';
import { xzCrc64 } from '../helpers/oss-protocol-server/xz-crc64-oracle.js';
import { OssSink } from '../../agent/sinks/oss/oss-sink.js';
import type { OssSinkOptions } from '../../agent/sinks/oss/oss-config.js';
import { VmxferError } from '../../agent/core/errors.js';
import { allErrorCodes } from '../../agent/core/error-catalog.js';
import type { PartRef } from '../../agent/sinks/object-sink.js';
import { runSinkConformance } from './sink-conformance.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';

/** The OSS sink's ObjectSink contract, against the OSS protocol fake. */

runSinkConformance('OSS sink against the OSS protocol server', async () => {
  const server = await startOssProtocolFake({ buckets: ['vmxfer-conformance'], capacityBytes: 256 * 1024 * 1024 });
  const base: OssSinkOptions = { bucket: 'vmxfer-conformance', endpoint: server.endpoint, sldEnable: true, accessKeyId: FAKE_ACCESS_KEY_ID, accessKeySecret: FAKE_ACCESS_KEY_SECRET, env: {}, listPageSize: 2 };
  const sinks = [
    new OssSink(base),
    new OssSink({ ...base, accessKeySecret: 'not-the-secret-' + randomBytes(8).toString('hex') }),
    new OssSink({ ...base, accessKeyId: 'LTAI' + randomBytes(6).toString('hex') }),
    new OssSink({ ...base, bucket: 'vmxfer-conformance-missing' }),
  ] as const;
  return {
    sink: sinks[0],
    wrongSecret: sinks[1],
    unknownAccessKey: sinks[2],
    missingBucket: sinks[3],
    endpoint: server.endpoint,
    viaEndpoint: (endpoint: string, opts?: { stallTimeoutMs?: number }) => new OssSink({ ...base, endpoint, timeoutMs: opts?.stallTimeoutMs }),
    cleanup: async () => {
      for (const s of sinks) s.close();
      await server.close();
    },
  };
});

let fake: OssProtocolFake;
const BUCKET = 'vmxfer-oss-sink';
const KiB = 1024;

before(async () => {
  fake = await startOssProtocolFake({ buckets: [BUCKET], capacityBytes: 64 * 1024 * 1024 });
});
after(async () => fake.close());

function sinkWith(extra: Partial<OssSinkOptions> = {}): OssSink {
  return new OssSink({
    bucket: BUCKET,
    endpoint: fake.endpoint,
    sldEnable: true,
    accessKeyId: FAKE_ACCESS_KEY_ID,
    accessKeySecret: FAKE_ACCESS_KEY_SECRET,
    env: {},
    ...extra,
  });
}

/** Asserts a typed VmxferError with this code and retryability, naming the store's own code. */
async function rejectsTyped(p: Promise<unknown>, code: string, retryable: boolean, storeCode?: string): Promise<VmxferError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof VmxferError, `expected a VmxferError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.retryable, retryable, `retryable of ${caught.message}`);
  if (storeCode) assert.match(caught.message, new RegExp(storeCode));
  return caught;
}

test('OSS sink over the OSS protocol fake: full multipart contract (out of order, re-upload, listParts, complete, read back)', async () => {
  const sink = sinkWith();
  const key = 'images/disk-1.vmdk';
  const id = await sink.createUpload(key, {
    contentType: 'application/x-vmdk',
    metadata: { 'source-sha256': 'abc123' },
    tags: { project: 'vmxfer', 'disk index': '1' },
    storageClass: 'IA',
    encryption: { algorithm: 'KMS', kmsKeyId: 'key-0001' },
  });
  const attrs = fake.store.bucket(BUCKET).uploads.get(id)!.attributes;
  assert.deepEqual(
    { ...attrs },
    { contentType: 'application/x-vmdk', metadata: { 'source-sha256': 'abc123' }, encryption: 'KMS', encryptionKeyId: 'key-0001', storageClass: 'IA', tags: { project: 'vmxfer', 'disk index': '1' } },
  );

  const bodies = [randomBytes(150 * KiB), randomBytes(120 * KiB + 7), randomBytes(33 * KiB + 1)];
  const refs = new Map<number, PartRef>();
  for (const n of [3, 1, 2]) refs.set(n, await sink.uploadPart(key, id, n, bodies[n - 1]!));
  const again = await sink.uploadPart(key, id, 2, bodies[1]!);
  assert.equal(again.etag, refs.get(2)!.etag, 're-uploading the same bytes gives the same ETag');
  for (const [n, ref] of refs) {
    assert.equal(ref.etag, createHash('md5').update(bodies[n - 1]!).digest('hex'), 'a bare lower-case ETag');
    assert.equal(ref.checksums?.md5, undefined, 'no MD5 is computed: OSS returns the CRC-64 of what arrived');
    assert.equal(BigInt(ref.checksums!.crc64ecma!), await xzCrc64(bodies[n - 1]!));
  }
  const listed = await sink.listParts(key, id);
  assert.deepEqual(
    listed.map((p) => [p.partNumber, p.etag, p.size]),
    [1, 2, 3].map((n) => [n, refs.get(n)!.etag, bodies[n - 1]!.length]),
  );
  assert.deepEqual((await sink.listUploads('images/')).map((u) => u.uploadId), [id]);

  const info = await sink.completeUpload(key, id, [refs.get(1)!, refs.get(2)!, refs.get(3)!]);
  const whole = Buffer.concat(bodies);
  assert.equal(info.size, whole.length);
  assert.match(info.etag, /^[0-9a-f]{32}-3$/);
  assert.equal(BigInt(info.crc64ecma!), await xzCrc64(whole), 'crc64ecma equals liblzma CRC-64 of the concatenated parts');

  assert.deepEqual(await sink.getTags(key), { project: 'vmxfer', 'disk index': '1' }, 'x-oss-tagging of Initiate reaches the object (GetObjectTagging)');
  await sink.putTags(key, { project: 'vmxfer', 'vmxfer-sha256': 'ab'.repeat(32) });
  assert.deepEqual(await sink.getTags(key), { project: 'vmxfer', 'vmxfer-sha256': 'ab'.repeat(32) }, 'PutObjectTagging replaced the set');
  await rejectsTyped(sink.putTags(key, Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']))), 'STORE_BAD_OPTION', false);
  const head = await sink.head(key);
  assert.deepEqual({ ...head, metadata: head?.metadata }, { key, size: whole.length, etag: info.etag, crc64ecma: info.crc64ecma, metadata: { 'source-sha256': 'abc123' } });
  for (const [s, e] of [[0, whole.length], [0, 1], [150 * KiB - 5, 150 * KiB + 5], [whole.length - 3, whole.length], [77, 77]] as const) {
    assert.ok((await sink.getRange(key, s, e)).equals(whole.subarray(s, e)), `bytes [${s}, ${e})`);
  }
  await rejectsTyped(sink.getRange(key, whole.length - 3, whole.length + 10), 'STORE_BAD_RANGE', false);
  assert.deepEqual(await sink.listUploads('images/'), []);
  await sink.deleteObject(key);
  assert.equal(await sink.head(key), undefined);
  await rejectsTyped(sink.getRange(key, 0, 10), 'STORE_NO_SUCH_KEY', false, 'NoSuchKey');
  sink.close();
});

test('OSS sink over the OSS protocol fake: listParts and listUploads follow pagination across pages', async () => {
  const sink = sinkWith({ listPageSize: 5 });
  const key = 'paged/parts';
  const id = await sink.createUpload(key, {});
  const numbers = Array.from({ length: 23 }, (_, i) => i * 3 + 1);
  for (let i = 0; i < numbers.length; i += 16) {
    await Promise.all(numbers.slice(i, i + 16).map((n) => sink.uploadPart(key, id, n, Buffer.from([n & 0xff]))));
  }
  const parts = await sink.listParts(key, id);
  assert.deepEqual(parts.map((p) => p.partNumber), numbers);
  const pages = fake.requests.filter((r) => r.operation === 'ListParts' && r.url.includes(id));
  assert.equal(pages.length, 5, '23 parts in pages of 5');

  const ids = [id];
  // Several uploads of one key, so paging must resume inside a key by upload-id-marker.
  for (let i = 0; i < 12; i++) ids.push(await sink.createUpload(`paged/u-${i % 4}`, {}));
  const uploads = await sink.listUploads('paged/');
  assert.deepEqual(new Set(uploads.map((u) => u.uploadId)), new Set(ids));
  assert.equal(uploads.length, ids.length);
  for (const u of uploads) await sink.abortUpload(u.key, u.uploadId);
  assert.deepEqual(await sink.listUploads('paged/'), []);
  sink.close();
});

test('OSS sink over the OSS protocol fake: store refusals are typed STORE_* errors; transit corruption is not retried by the sink', async () => {
  const sink = sinkWith();
  const key = 'refusals/obj';
  const id = await sink.createUpload(key, {});
  const small = await sink.uploadPart(key, id, 1, randomBytes(10 * KiB));
  const last = await sink.uploadPart(key, id, 2, randomBytes(10));
  await rejectsTyped(sink.completeUpload(key, id, [small, last]), 'STORE_ENTITY_TOO_SMALL', false, 'EntityTooSmall');
  const ghost: PartRef = { partNumber: 3, etag: last.etag, size: 10 };
  await rejectsTyped(sink.completeUpload(key, id, [ghost]), 'STORE_INVALID_PART', false, 'InvalidPart');

  fake.faults.inject({ kind: 'corrupt' }, 1, 'UploadPart');
  // Corruption in transit: OSS's CRC-64 of what arrived is not the part's; only the engine, which
  // holds the part, resends it (transfer/send-part.ts).
  const digest = await rejectsTyped(sink.uploadPart(key, id, 4, randomBytes(1000)), 'STORE_BAD_DIGEST', false, 'OSS computed CRC-64');
  assert.equal(digest.category, 'integrity');

  fake.faults.inject({ kind: 'header', name: 'x-oss-hash-crc64ecma', value: '12345' }, 1, 'UploadPart');
  await rejectsTyped(sink.uploadPart(key, id, 5, randomBytes(1000)), 'STORE_BAD_DIGEST', false, '12345');

  await sink.abortUpload(key, id);
  assert.deepEqual(await sink.listUploads('refusals/'), []);
  await rejectsTyped(sink.uploadPart(key, id, 6, randomBytes(10)), 'STORE_NO_SUCH_UPLOAD', false, 'NoSuchUpload');
  await rejectsTyped(sink.listParts(key, id), 'STORE_NO_SUCH_UPLOAD', false, 'NoSuchUpload');
  await rejectsTyped(sink.abortUpload(key, id), 'STORE_NO_SUCH_UPLOAD', false);

  const wrongSecret = sinkWith({ accessKeySecret: 'wrong-secret' });
  const sig = await rejectsTyped(wrongSecret.createUpload(key, {}), 'STORE_SIGNATURE_MISMATCH', false, 'SignatureDoesNotMatch');
  assert.equal(sig.name, 'RemoteError');
  assert.equal(sig.file, `oss://${BUCKET}/${key}`);
  await rejectsTyped(sinkWith({ accessKeyId: 'LTAIunknown' }).head(key), 'STORE_INVALID_ACCESS_KEY', false, 'InvalidAccessKeyId');
  await rejectsTyped(sinkWith({ bucket: 'no-such-bucket' }).createUpload(key, {}), 'STORE_NO_SUCH_BUCKET', false, 'NoSuchBucket');
  await rejectsTyped(sinkWith({ bucket: 'no-such-bucket' }).head(key), 'STORE_NO_SUCH_BUCKET', false, 'NoSuchBucket');
  await rejectsTyped(sink.uploadPart(key, id, 10_001, Buffer.alloc(1)), 'STORE_BAD_PART_NUMBER', false);
  await rejectsTyped(sink.createUpload(key, { encryption: { algorithm: 'aws:kms' } }), 'STORE_BAD_OPTION', false);
  sink.close();
});

test('OSS sink over the OSS protocol fake: InvalidDigest and InvalidPartOrder from raw requests map to typed errors', async () => {
  // The sink refuses an out-of-order list before sending it, so the store's own answers are
  // provoked by raw signed requests and checked at the wire.
  const sink = sinkWith();
  const key = 'raw-mapped/obj';
  const id = await sink.createUpload(key, {});
  const body = randomBytes(200);
  const wrongMd5 = createHash('md5').update('other').digest('base64');
  const digest = await signedRaw('PUT', `/${BUCKET}/${key}?partNumber=1&uploadId=${id}`, { 'Content-MD5': wrongMd5 }, body, `/${BUCKET}/${key}?partNumber=1&uploadId=${id}`);
  assert.equal(digest.status, 400);
  assert.match(digest.body, /<Code>InvalidDigest<\/Code>/);
  const p1 = await sink.uploadPart(key, id, 1, randomBytes(100 * KiB));
  const p2 = await sink.uploadPart(key, id, 2, body);
  const xml = `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>${p2.etag}</ETag></Part><Part><PartNumber>1</PartNumber><ETag>${p1.etag}</ETag></Part></CompleteMultipartUpload>`;
  const order = await signedRaw('POST', `/${BUCKET}/${key}?uploadId=${id}`, { 'Content-Type': 'application/xml' }, Buffer.from(xml), `/${BUCKET}/${key}?uploadId=${id}`);
  assert.equal(order.status, 400);
  assert.match(order.body, /<Code>InvalidPartOrder<\/Code>/);
  // What the sink makes of the same store answers, when the store gives them to it:
  fake.faults.inject({ kind: 'error', status: 400, code: 'InvalidPartOrder' }, 1, 'CompleteMultipartUpload');
  await rejectsTyped(sink.completeUpload(key, id, [p1, p2]), 'STORE_INVALID_PART_ORDER', false, 'InvalidPartOrder');
  fake.faults.inject({ kind: 'error', status: 403, code: 'AccessDenied' }, 1, 'UploadPart');
  await rejectsTyped(sink.uploadPart(key, id, 3, body), 'STORE_ACCESS_DENIED', false, 'AccessDenied');
  await rejectsTyped(sink.completeUpload(key, id, [p2, p1]), 'STORE_INVALID_PART_ORDER', false);
  const info = await sink.completeUpload(key, id, [p1, p2]);
  assert.equal(info.size, 100 * KiB + 200);
  sink.close();
});

test('OSS sink over the OSS protocol fake: 503 ServerBusy, resets and timeouts are typed and retryable; abort cancels', async () => {
  const sink = sinkWith({ timeoutMs: 300 });
  const key = 'transient/obj';
  const id = await sink.createUpload(key, {});
  const body = randomBytes(1000);
  fake.faults.serverBusy(1, 'UploadPart');
  await rejectsTyped(sink.uploadPart(key, id, 1, body), 'STORE_SERVER_BUSY', true, 'ServerBusy');
  fake.faults.inject({ kind: 'reset' }, 1, 'UploadPart');
  await rejectsTyped(sink.uploadPart(key, id, 1, body), 'STORE_NETWORK', true);
  fake.faults.inject({ kind: 'delay', ms: 1500 }, 1, 'ListParts');
  await rejectsTyped(sink.listParts(key, id), 'STORE_STALLED', true, 'timeout');
  const ok = await sink.uploadPart(key, id, 1, body);
  assert.deepEqual((await sink.listParts(key, id)).map((p) => p.etag), [ok.etag]);

  const patient = sinkWith();
  fake.faults.inject({ kind: 'delay', ms: 2000 }, 1, 'UploadPart');
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 50);
  await rejectsTyped(patient.uploadPart(key, id, 2, body, ac.signal), 'VMX_ABORTED', false);
  assert.ok(Date.now() - started < 1500, 'abort does not wait for the response');
  await rejectsTyped(patient.head(key, AbortSignal.abort()), 'VMX_ABORTED', false);
  await sink.abortUpload(key, id);
  sink.close();
  patient.close();
});

test('OSS sink: credentials from OSS_* or ALIBABA_CLOUD_* environment, typed STORE_CONFIG errors, no OSS_* error family', async () => {
  const viaOss = new OssSink({ bucket: BUCKET, endpoint: fake.endpoint, sldEnable: true, env: { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET } });
  assert.equal(await viaOss.head('env/none'), undefined);
  const viaAlibaba = new OssSink({
    bucket: BUCKET,
    endpoint: fake.endpoint,
    sldEnable: true,
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET },
  });
  assert.equal(await viaAlibaba.head('env/none'), undefined);
  viaOss.close();
  viaAlibaba.close();
  assert.throws(() => new OssSink({ bucket: BUCKET, endpoint: fake.endpoint, env: {} }), (e: unknown) => e instanceof VmxferError && e.code === 'STORE_CONFIG');
  assert.throws(() => new OssSink({ bucket: 'Bad_Bucket', endpoint: fake.endpoint, accessKeyId: 'a', accessKeySecret: 'b' }), (e: unknown) => e instanceof VmxferError && e.code === 'STORE_CONFIG');
  assert.deepEqual(allErrorCodes().filter((c) => c.code.startsWith('OSS_')), [], 'no OSS_* family: every sink speaks STORE_*');
});

/** A raw V1-signed request with the string to sign written out here (OSS API reference, V1 signature). */
function signedRaw(method: string, path: string, headers: Record<string, string>, body: Buffer, resource: string): Promise<{ status: number; body: string }> {
  const date = new Date().toUTCString();
  const sts = `${method}\n${headers['Content-MD5'] ?? ''}\n${headers['Content-Type'] ?? ''}\n${date}\n${resource}`;
  const sig = createHmac('sha1', FAKE_ACCESS_KEY_SECRET).update(sts).digest('base64');
  const all = { ...headers, Date: date, Authorization: `OSS ${FAKE_ACCESS_KEY_ID}:${sig}`, 'Content-Length': String(body.length) };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: fake.port, method, path, headers: all }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('OSS sink: an IP-address endpoint is addressed path-style and works; a virtual-host name that does not resolve fails fast as STORE_CONFIG', async () => {
  const byIp = new OssSink({ bucket: BUCKET, endpoint: `http://127.0.0.1:${fake.port}`, accessKeyId: FAKE_ACCESS_KEY_ID, accessKeySecret: FAKE_ACCESS_KEY_SECRET, env: {} });
  const key = 'by-ip/obj';
  const id = await byIp.createUpload(key, {});
  const body = randomBytes(5000);
  await byIp.completeUpload(key, id, [await byIp.uploadPart(key, id, 1, body)]);
  assert.ok((await byIp.getRange(key, 0, 5000)).equals(body));
  await byIp.deleteObject(key);
  byIp.close();
  const hosts = new Set(fake.requests.filter((r) => r.url.startsWith(`/${BUCKET}/by-ip/`)).map((r) => r.host));
  assert.deepEqual([...hosts], [`127.0.0.1:${fake.port}`], 'requests name the endpoint they go to, not a bucket host under aliyuncs.com');

  // localhost serves no bucket host names: ali-oss asks for BUCKET.localhost, which does not resolve.
  const virtualHost = retryingSink(new OssSink({ bucket: BUCKET, endpoint: fake.endpoint, sldEnable: false, accessKeyId: FAKE_ACCESS_KEY_ID, accessKeySecret: FAKE_ACCESS_KEY_SECRET, env: {} }));
  const started = Date.now();
  const err = await rejectsTyped(virtualHost.createUpload(key, {}), 'STORE_CONFIG', false);
  assert.ok(Date.now() - started < 1000, `failed in ${Date.now() - started} ms, not retried`);
  assert.match(err.message, /does not resolve.*path-style/);
});

test('OSS sink: a range read buffers exactly its length, whatever the cap on other answers (listings)', async () => {
  const sink = sinkWith({ maxResponseBytes: 64 * KiB });
  const key = 'ranges/big';
  const body = randomBytes(300 * KiB);
  const id = await sink.createUpload(key, {});
  await sink.completeUpload(key, id, [await sink.uploadPart(key, id, 1, body)]);
  assert.ok((await sink.getRange(key, 10, 250 * KiB)).equals(body.subarray(10, 250 * KiB)), 'a 250 KiB range over a 64 KiB listing cap');
  await sink.deleteObject(key);
  sink.close();
});
