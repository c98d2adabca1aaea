import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import OSSClient from 'ali-oss';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';
import { fakeCrc64Ecma } from '../helpers/oss-protocol-server/crc64-ecma.js';
import { xzCrc64 } from '../helpers/oss-protocol-server/xz-crc64-oracle.js';

/**
 * The OSS protocol fake itself, exercised by raw HTTP requests signed here by hand (the V1 string
 * to sign written out per the OSS API reference, not through the fake's own signer) and by ali-oss.
 */

let fake: OssProtocolFake;
const BUCKET = 'fake-raw';

before(async () => {
  fake = await startOssProtocolFake({ buckets: [BUCKET], capacityBytes: 8 * 1024 * 1024 });
});
after(async () => fake.close());

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface RawRequest {
  method: string;
  /** Path with the query string, as sent: "/bucket/key?uploadId=...". */
  path: string;
  /** The string to sign, spelled out by the test: VERB, Content-MD5, Content-Type, Date, headers + resource. */
  stringToSign?: (date: string) => string;
  headers?: Record<string, string>;
  body?: Buffer;
  keyId?: string;
  secret?: string;
  date?: string;
}

function rawRequest(r: RawRequest): Promise<RawReply> {
  const date = r.date ?? new Date().toUTCString();
  const headers: Record<string, string> = { Date: date, ...(r.headers ?? {}) };
  if (r.stringToSign) {
    const sig = createHmac('sha1', r.secret ?? FAKE_ACCESS_KEY_SECRET).update(r.stringToSign(date)).digest('base64');
    headers['Authorization'] = `OSS ${r.keyId ?? FAKE_ACCESS_KEY_ID}:${sig}`;
  }
  if (r.body) headers['Content-Length'] = String(r.body.length);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: fake.port, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

function errorCode(reply: RawReply): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(reply.body.toString('utf8'))?.[1];
}

const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const md5Upper = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();

async function rawPut(key: string, body: Buffer, extra: { meta?: string } = {}): Promise<RawReply> {
  const md5 = md5b64(body);
  const headers: Record<string, string> = { 'Content-MD5': md5, 'Content-Type': 'application/octet-stream' };
  if (extra.meta) headers['x-oss-meta-origin'] = extra.meta;
  return rawRequest({
    method: 'PUT',
    path: `/${BUCKET}/${key}`,
    headers,
    body,
    stringToSign: (d) => `PUT\n${md5}\napplication/octet-stream\n${d}\n${extra.meta ? `x-oss-meta-origin:${extra.meta}\n` : ''}/${BUCKET}/${key}`,
  });
}

async function rawInitiate(key: string): Promise<string> {
  const r = await rawRequest({ method: 'POST', path: `/${BUCKET}/${key}?uploads`, stringToSign: (d) => `POST\n\n\n${d}\n/${BUCKET}/${key}?uploads` });
  assert.equal(r.status, 200, r.body.toString());
  return /<UploadId>([^<]+)<\/UploadId>/.exec(r.body.toString())![1]!;
}

async function rawUploadPart(key: string, uploadId: string, n: number, body: Buffer, md5 = md5b64(body)): Promise<RawReply> {
  return rawRequest({
    method: 'PUT',
    path: `/${BUCKET}/${key}?partNumber=${n}&uploadId=${uploadId}`,
    headers: { 'Content-MD5': md5 },
    body,
    stringToSign: (d) => `PUT\n${md5}\n\n${d}\n/${BUCKET}/${key}?partNumber=${n}&uploadId=${uploadId}`,
  });
}

async function rawComplete(key: string, uploadId: string, parts: Array<[number, string]>): Promise<RawReply> {
  const xml = `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  return rawRequest({
    method: 'POST',
    path: `/${BUCKET}/${key}?uploadId=${uploadId}`,
    headers: { 'Content-Type': 'application/xml' },
    body: Buffer.from(xml),
    stringToSign: (d) => `POST\n\napplication/xml\n${d}\n/${BUCKET}/${key}?uploadId=${uploadId}`,
  });
}

test('OSS protocol fake: its CRC-64/ECMA gives the catalogue check value and agrees with xz (liblzma)', async () => {
  assert.equal(BigInt(fakeCrc64Ecma(Buffer.from('123456789'))), 0x995dc9bbdf1939fan);
  assert.equal(fakeCrc64Ecma(Buffer.alloc(0)), '0');
  const data = randomBytes(300_001);
  assert.equal(BigInt(fakeCrc64Ecma(data.subarray(0, 1000), data.subarray(1000))), await xzCrc64(data));
});

test('OSS protocol fake: raw signed PutObject / GetObject with ranges / HeadObject', async () => {
  const body = randomBytes(5000);
  const put = await rawPut('raw/obj', body, { meta: 'hand-signed' });
  assert.equal(put.status, 200, put.body.toString());
  assert.equal(put.headers['etag'], `"${md5Upper(body)}"`);
  assert.equal(BigInt(put.headers['x-oss-hash-crc64ecma'] as string), await xzCrc64(body));

  const get = (range?: string) =>
    rawRequest({ method: 'GET', path: `/${BUCKET}/raw/obj`, headers: range ? { Range: range } : {}, stringToSign: (d) => `GET\n\n\n${d}\n/${BUCKET}/raw/obj` });
  const whole = await get();
  assert.equal(whole.status, 200);
  assert.ok(whole.body.equals(body));
  const mid = await get('bytes=100-199');
  assert.equal(mid.status, 206);
  assert.equal(mid.headers['content-range'], 'bytes 100-199/5000');
  assert.ok(mid.body.equals(body.subarray(100, 200)));
  const suffix = await get('bytes=-10');
  assert.equal(suffix.headers['content-range'], 'bytes 4990-4999/5000');
  assert.ok(suffix.body.equals(body.subarray(4990)));
  const clipped = await get('bytes=4990-9999');
  assert.equal(clipped.headers['content-range'], 'bytes 4990-4999/5000');
  const past = await get('bytes=5000-5001');
  assert.equal(past.status, 416);
  assert.equal(errorCode(past), 'InvalidRange');

  const head = await rawRequest({ method: 'HEAD', path: `/${BUCKET}/raw/obj`, stringToSign: (d) => `HEAD\n\n\n${d}\n/${BUCKET}/raw/obj` });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5000');
  assert.equal(head.headers['x-oss-meta-origin'], 'hand-signed');
  assert.equal(head.headers['x-oss-object-type'], 'Normal');
});

test('OSS protocol fake: rejects bad signatures, unknown keys, anonymous and stale requests with OSS error XML', async () => {
  const sts = (d: string) => `GET\n\n\n${d}\n/${BUCKET}/raw/none`;
  const wrongSecret = await rawRequest({ method: 'GET', path: `/${BUCKET}/raw/none`, stringToSign: sts, secret: 'not-the-secret' });
  assert.equal(wrongSecret.status, 403);
  const text = wrongSecret.body.toString();
  assert.equal(errorCode(wrongSecret), 'SignatureDoesNotMatch');
  assert.match(text, /<Error><Code>SignatureDoesNotMatch<\/Code><Message>[^<]+<\/Message><RequestId>[0-9A-F]{24}<\/RequestId><HostId>[^<]+<\/HostId>/);
  assert.equal(wrongSecret.headers['x-oss-request-id'], /<RequestId>([^<]+)</.exec(text)![1]);

  const unknownKey = await rawRequest({ method: 'GET', path: `/${BUCKET}/raw/none`, stringToSign: sts, keyId: 'LTAInobody' });
  assert.equal(unknownKey.status, 403);
  assert.equal(errorCode(unknownKey), 'InvalidAccessKeyId');

  const anonymous = await rawRequest({ method: 'GET', path: `/${BUCKET}/raw/none` });
  assert.equal(anonymous.status, 403);
  assert.equal(errorCode(anonymous), 'AccessDenied');

  const stale = await rawRequest({ method: 'GET', path: `/${BUCKET}/raw/none`, stringToSign: sts, date: new Date(Date.now() - 3600_000).toUTCString() });
  assert.equal(errorCode(stale), 'RequestTimeTooSkewed');

  // The signature covers x-oss-* headers and sub-resources: changing either after signing fails.
  const body = Buffer.from('x');
  const md5 = md5b64(body);
  const tampered = await rawRequest({
    method: 'PUT',
    path: `/${BUCKET}/raw/t`,
    headers: { 'Content-MD5': md5, 'x-oss-meta-a': 'changed' },
    body,
    stringToSign: (d) => `PUT\n${md5}\n\n${d}\nx-oss-meta-a:original\n/${BUCKET}/raw/t`,
  });
  assert.equal(errorCode(tampered), 'SignatureDoesNotMatch');
  const up = await rawInitiate('raw/sub');
  const otherSub = await rawRequest({ method: 'GET', path: `/${BUCKET}/raw/sub?uploadId=${up}`, stringToSign: (d) => `GET\n\n\n${d}\n/${BUCKET}/raw/sub` });
  assert.equal(errorCode(otherSub), 'SignatureDoesNotMatch');
  const missing = await rawRequest({ method: 'GET', path: '/no-such-bucket-here/k', stringToSign: (d) => `GET\n\n\n${d}\n/no-such-bucket-here/k` });
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing), 'NoSuchBucket');
});

test('OSS protocol fake: UploadPart verifies Content-MD5 and Complete enforces order, identity and the 100 KB minimum', async () => {
  const key = 'raw/multi';
  const id = await rawInitiate(key);
  const big = randomBytes(100 * 1024);
  const small = randomBytes(10);
  const bad = await rawUploadPart(key, id, 1, big, md5b64(small));
  assert.equal(bad.status, 400);
  assert.equal(errorCode(bad), 'InvalidDigest');
  const p1 = await rawUploadPart(key, id, 1, big);
  assert.equal(p1.status, 200);
  assert.equal(p1.headers['etag'], `"${md5Upper(big)}"`);
  const p2 = await rawUploadPart(key, id, 2, small);
  const p3 = await rawUploadPart(key, id, 3, small);
  const e = (r: RawReply) => r.headers['etag'] as string;

  const order = await rawComplete(key, id, [[2, e(p2)], [1, e(p1)]]);
  assert.equal(order.status, 400);
  assert.equal(errorCode(order), 'InvalidPartOrder');
  const unknown = await rawComplete(key, id, [[1, e(p1)], [4, e(p2)]]);
  assert.equal(errorCode(unknown), 'InvalidPart');
  const wrongEtag = await rawComplete(key, id, [[1, e(p1)], [2, e(p1)]]);
  assert.equal(errorCode(wrongEtag), 'InvalidPart');
  const tooSmall = await rawComplete(key, id, [[1, e(p1)], [2, e(p2)], [3, e(p3)]]);
  assert.equal(tooSmall.status, 400);
  assert.equal(errorCode(tooSmall), 'EntityTooSmall');

  const ok = await rawComplete(key, id, [[1, e(p1)], [3, e(p3)]]);
  assert.equal(ok.status, 200, ok.body.toString());
  const partMd5s = Buffer.concat([big, small].map((b) => createHash('md5').update(b).digest()));
  const expectEtag = `"${md5Upper(partMd5s)}-2"`;
  assert.equal(ok.headers['etag'], expectEtag);
  assert.match(ok.body.toString(), new RegExp(`<ETag>${expectEtag.replace(/"/g, '&quot;')}</ETag>`));
  assert.equal(BigInt(ok.headers['x-oss-hash-crc64ecma'] as string), await xzCrc64(Buffer.concat([big, small])));
  const gone = await rawUploadPart(key, id, 5, small);
  assert.equal(gone.status, 404);
  assert.equal(errorCode(gone), 'NoSuchUpload');
});

test('OSS protocol fake: ListParts and ListMultipartUploads paginate with their markers', async () => {
  const key = 'raw/list';
  const id = await rawInitiate(key);
  for (const n of [5, 1, 3, 2, 4]) assert.equal((await rawUploadPart(key, id, n, Buffer.from([n]))).status, 200);
  const list = (marker: number) =>
    rawRequest({
      method: 'GET',
      path: `/${BUCKET}/${key}?uploadId=${id}&max-parts=2&part-number-marker=${marker}`,
      stringToSign: (d) => `GET\n\n\n${d}\n/${BUCKET}/${key}?uploadId=${id}`,
    });
  const seen: number[] = [];
  let marker = 0;
  for (let i = 0; i < 5; i++) {
    const page = (await list(marker)).body.toString();
    seen.push(...[...page.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1])));
    if (/<IsTruncated>false</.test(page)) break;
    marker = Number(/<NextPartNumberMarker>(\d+)</.exec(page)![1]);
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);

  const ids = [await rawInitiate('pre/a'), await rawInitiate('pre/a'), await rawInitiate('pre/b')];
  await rawInitiate('other/c');
  const uploads = (q: string) =>
    rawRequest({ method: 'GET', path: `/${BUCKET}/?uploads&prefix=pre%2F&max-uploads=2${q}`, stringToSign: (d) => `GET\n\n\n${d}\n/${BUCKET}/?uploads` });
  const first = (await uploads('')).body.toString();
  assert.match(first, /<IsTruncated>true</);
  const nextKey = /<NextKeyMarker>([^<]*)</.exec(first)![1]!;
  const nextId = /<NextUploadIdMarker>([^<]*)</.exec(first)![1]!;
  const second = (await uploads(`&key-marker=${encodeURIComponent(nextKey)}&upload-id-marker=${nextId}`)).body.toString();
  assert.match(second, /<IsTruncated>false</);
  const listed = [first, second].flatMap((p) => [...p.matchAll(/<UploadId>([^<]+)<\/UploadId>/g)].map((m) => m[1]));
  assert.deepEqual(listed, ids);
});

test('OSS protocol fake: HEAD errors carry x-oss-err, memory is bounded, faults are injectable', async () => {
  const head = await rawRequest({ method: 'HEAD', path: `/${BUCKET}/raw/absent`, stringToSign: (d) => `HEAD\n\n\n${d}\n/${BUCKET}/raw/absent` });
  assert.equal(head.status, 404);
  assert.match(Buffer.from(head.headers['x-oss-err'] as string, 'base64').toString(), /<Code>NoSuchKey<\/Code>/);

  const used = fake.store.bytesUsed;
  const tooBig = await rawPut('raw/huge', Buffer.alloc(9 * 1024 * 1024));
  assert.equal(tooBig.status, 400);
  assert.equal(errorCode(tooBig), 'EntityTooLarge');
  assert.equal(fake.store.bytesUsed, used);

  fake.faults.serverBusy(2, 'PutObject');
  const busy1 = await rawPut('raw/busy', Buffer.from('b'));
  const busy2 = await rawPut('raw/busy', Buffer.from('b'));
  const fine = await rawPut('raw/busy', Buffer.from('b'));
  assert.deepEqual([busy1.status, busy2.status, fine.status], [503, 503, 200]);
  assert.equal(errorCode(busy1), 'ServerBusy');
});

test('OSS protocol fake: ali-oss (path style, sldEnable) creates a bucket, writes, reads and deletes through it', async () => {
  const Ctor = OSSClient as unknown as new (o: Record<string, unknown>) => any;
  const client = new Ctor({ accessKeyId: FAKE_ACCESS_KEY_ID, accessKeySecret: FAKE_ACCESS_KEY_SECRET, endpoint: fake.endpoint, sldEnable: true, bucket: 'fake-sdk' });
  await client.putBucket('fake-sdk');
  const body = randomBytes(2048);
  const put = await client.put('dir/sdk object', body);
  assert.equal(put.res.headers.etag, `"${md5Upper(body)}"`);
  const got = await client.get('dir/sdk object');
  assert.ok(got.content.equals(body));
  await client.delete('dir/sdk object');
  await assert.rejects(client.get('dir/sdk object'), (e: any) => e.code === 'NoSuchKey' && e.status === 404);
  await client.deleteBucket('fake-sdk');
  await assert.rejects(client.put('k', body), (e: any) => e.code === 'NoSuchBucket');
  const ops = fake.requests.map((r) => r.operation);
  for (const op of ['PutBucket', 'PutObject', 'GetObject', 'DeleteObject', 'DeleteBucket']) assert.ok(ops.includes(op), `${op} was served`);
});

function rawTagging(method: 'PUT' | 'GET', key: string, xml?: string): Promise<RawReply> {
  const type = xml === undefined ? '' : 'application/xml';
  return rawRequest({
    method,
    path: `/${BUCKET}/${key}?tagging`,
    headers: type ? { 'Content-Type': type } : {},
    body: xml === undefined ? undefined : Buffer.from(xml),
    stringToSign: (d) => `${method}\n\n${type}\n${d}\n/${BUCKET}/${key}?tagging`,
  });
}

const taggingXml = (tags: Array<[string, string]>) =>
  `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;

test('OSS protocol fake: PutObjectTagging replaces the tag set, GetObjectTagging returns it; 11 tags, bad XML and missing keys refused', async () => {
  assert.equal((await rawPut('tagged', randomBytes(100))).status, 200);
  const put = await rawTagging('PUT', 'tagged', taggingXml([['team', 'infra'], ['vmxfer-sha256', 'ab&c']].map(([k, v]) => [k!, v!.replace('&', '&amp;')])));
  assert.equal(put.status, 200, put.body.toString());
  const got = await rawTagging('GET', 'tagged');
  assert.equal(got.status, 200);
  assert.match(got.body.toString(), /<Tagging><TagSet><Tag><Key>team<\/Key><Value>infra<\/Value><\/Tag><Tag><Key>vmxfer-sha256<\/Key><Value>ab&amp;c<\/Value><\/Tag><\/TagSet><\/Tagging>/);
  const head = await rawRequest({ method: 'HEAD', path: `/${BUCKET}/tagged`, stringToSign: (d) => `HEAD\n\n\n${d}\n/${BUCKET}/tagged` });
  assert.equal(head.headers['x-oss-tagging-count'], '2');
  assert.equal((await rawTagging('PUT', 'tagged', taggingXml([['only', '1']]))).status, 200);
  assert.match((await rawTagging('GET', 'tagged')).body.toString(), /<TagSet><Tag><Key>only<\/Key><Value>1<\/Value><\/Tag><\/TagSet>/, 'the whole set is replaced');
  const eleven = await rawTagging('PUT', 'tagged', taggingXml(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'] as [string, string])));
  assert.equal(eleven.status, 400);
  assert.equal(errorCode(eleven), 'InvalidTag');
  const malformed = await rawTagging('PUT', 'tagged', '<Tagging><Tag>');
  assert.equal(errorCode(malformed), 'MalformedXML');
  const missing = await rawTagging('GET', 'no-such-object');
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing), 'NoSuchKey');
  const unsigned = await rawRequest({ method: 'GET', path: `/${BUCKET}/tagged?tagging`, stringToSign: (d) => `GET\n\n\n${d}\n/${BUCKET}/tagged` });
  assert.equal(errorCode(unsigned), 'SignatureDoesNotMatch', 'the tagging subresource is part of the signed resource');
});

test('OSS protocol fake: ali-oss putObjectTagging / getObjectTagging round-trip through it', async () => {
  const Ctor = OSSClient as unknown as new (o: Record<string, unknown>) => any;
  const client = new Ctor({ accessKeyId: FAKE_ACCESS_KEY_ID, accessKeySecret: FAKE_ACCESS_KEY_SECRET, endpoint: fake.endpoint, sldEnable: true, bucket: BUCKET });
  await client.put('sdk-tagged', randomBytes(64));
  await client.putObjectTagging('sdk-tagged', { a: '1', 'b c': 'x/y' });
  assert.deepEqual((await client.getObjectTagging('sdk-tagged')).tag, { a: '1', 'b c': 'x/y' });
  await client.putObjectTagging('sdk-tagged', {});
  assert.deepEqual((await client.getObjectTagging('sdk-tagged')).tag, {});
});
