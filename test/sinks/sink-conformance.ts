import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { isVmxferError, vmxError, type ErrorCodeDef } from '../../agent/core/errors.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import type { DamagedPartSender, ObjectSink, ObjectTagReader, PartRef } from '../../agent/sinks/object-sink.js';
import { partChecksum } from '../../agent/sinks/part-checksum.js';
import { crc32c, crc32cToS3 } from '../../agent/hashing/crc32c.js';
import { checkpointPart } from '../../agent/transfer/part-record.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { decorateSink } from '../../agent/sinks/decorate-sink.js';
import { StallState, stallGuardedSink, transferDeadlineMs } from '../../agent/sinks/stall-guard.js';
import { tracedSink } from '../../agent/sinks/traced-sink.js';
import { throttledSink } from '../../agent/sinks/throttled-sink.js';
import { TokenBucket } from '../../agent/sinks/token-bucket.js';
import { DIGEST_ATTEMPTS, sendPart } from '../../agent/transfer/send-part.js';
import { completeOrConfirm } from '../../agent/transfer/complete-upload.js';
import { crc64, crc64ToS3 } from '../../agent/hashing/crc64.js';
import { startFaultProxy, type FaultPlan, type FaultProxy } from '../helpers/fault-proxy.js';

export interface ConformanceTarget {
  sink: ObjectSink & ObjectTagReader & DamagedPartSender;
  /** The same store reached with a wrong secret / an unknown access key (absent: the store has no credentials). */
  wrongSecret?: ObjectSink | undefined;
  unknownAccessKey?: ObjectSink | undefined;
  /** The same store, a bucket that does not exist. */
  missingBucket: ObjectSink;
  /** The same store and bucket reached through another endpoint (a fault proxy); absent: the store has no endpoint. */
  viaEndpoint?: ((endpoint: string, opts?: { stallTimeoutMs?: number }) => ObjectSink & DamagedPartSender) | undefined;
  /** The store has no server-side part copy (copyPart absent); every store here has one. */
  noPartCopy?: boolean | undefined;
  /** Why the server copies a part whatever x-*-copy-source-if-match says (measured, not assumed); absent: it honours it. */
  copyIgnoresIfMatch?: string | undefined;
  /** Where the store listens, for a fault proxy in front of it. */
  endpoint?: string | undefined;
  cleanup(): Promise<void>;
}

/** Asserts a promise rejects with a VmxferError of the given code (and retryability). */
export async function rejectsWithCode(p: Promise<unknown>, def: ErrorCodeDef, retryable?: boolean): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isVmxferError(err), `expected a VmxferError ${def.code}, got ${String(err)}`);
    assert.equal(err.code, def.code, err.message);
    if (retryable !== undefined) assert.equal(err.retryable, retryable, `retryable flag of ${err.message}`);
    return true;
  });
}

const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

/**
 * The behaviour every ObjectSink owes the transfer engine, written once against S3's multipart
 * semantics and run against each store (file, S3 via RGW, ...). Each test uses its own keys and
 * deletes what it wrote.
 */
export function runSinkConformance(name: string, makeTarget: () => Promise<ConformanceTarget>): void {
  describe(`ObjectSink conformance: ${name}`, () => {
    let t: ConformanceTarget;
    let sink: ConformanceTarget['sink'];
    let min: number;
    const run = randomBytes(3).toString('hex');
    const key = (label: string) => `conformance-${run}/${label}.img`;

    before(async () => {
      t = await makeTarget();
      sink = t.sink;
      min = sink.limits.minPartSize;
    });
    after(async () => {
      await t?.cleanup();
    });

    /** Stores that refuse a damaged part before keeping it; OSS keeps it and the sink refuses its CRC-64 answer. */
    const storeChecksPart = () => sink.capabilities.partChecksum !== 'crc64ecma';

    /** Uploads `bodies` as parts 1..n in the given order of part numbers; returns refs by part number. */
    async function putParts(k: string, id: string, bodies: Buffer[], order = bodies.map((_, i) => i + 1)): Promise<PartRef[]> {
      const refs: PartRef[] = [];
      for (const n of order) refs[n - 1] = await sink.uploadPart(k, id, n, bodies[n - 1]!);
      return refs;
    }

    test('parts at the minimum size plus a shorter last part complete into the exact bytes (listParts, head, getRange agree)', async () => {
      const k = key('basic');
      const bodies = [randomBytes(min), randomBytes(min), randomBytes(Math.floor(min / 3) + 7)];
      const whole = Buffer.concat(bodies);
      const id = await sink.createUpload(k, {});
      const refs = await putParts(k, id, bodies);
      for (const [i, r] of refs.entries()) assert.equal(r.etag, md5Hex(bodies[i]!), `part ${i + 1} ETag is the MD5 of its bytes`);
      const listed = await sink.listParts(k, id);
      assert.deepEqual(listed.map((p) => [p.partNumber, p.etag, p.size]), refs.map((p) => [p.partNumber, p.etag, p.size]));
      const info = await sink.completeUpload(k, id, listed);
      // S3's multipart ETag: MD5 of the concatenated binary part MD5s, "-", the part count.
      const expectEtag = createHash('md5').update(Buffer.concat(bodies.map((b) => createHash('md5').update(b).digest()))).digest('hex') + '-3';
      assert.equal(info.size, whole.length);
      assert.equal(info.etag, expectEtag);
      const head = await sink.head(k);
      assert.equal(head?.size, whole.length);
      assert.equal(head?.etag, expectEtag);
      for (const [s, e] of [[0, whole.length], [min - 5, min + 5], [whole.length - 1, whole.length], [17, 17], [2 * min, whole.length]] as const) {
        const got = await sink.getRange(k, s, e);
        assert.ok(got.equals(whole.subarray(s, e)), `getRange(${s}, ${e}) returns the uploaded bytes`);
      }
      assert.ok(!(await sink.listUploads(k)).some((u) => u.uploadId === id), 'a completed upload is no longer pending');
      await sink.deleteObject(k);
      assert.equal(await sink.head(k), undefined);
    });

    test('a part sent with a pacer (--bwlimit) draws every byte through it a slice at a time, each attempt again, and is stored intact', async () => {
      const k = key('paced');
      const body = randomBytes(min + 12345);
      const takes: number[] = [];
      const pacer = { sliceBytes: 64 * 1024, take: async (n: number) => void takes.push(n) };
      const id = await sink.createUpload(k, {});
      const first = await sink.uploadPart(k, id, 1, body, undefined, pacer);
      assert.equal(takes.reduce((a, b) => a + b, 0), body.length, 'the whole body was drawn');
      assert.ok(takes.every((n) => n > 0 && n <= pacer.sliceBytes), `slices of at most ${pacer.sliceBytes} bytes: ${takes.length} takes`);
      const again = await sink.uploadPart(k, id, 1, body, undefined, pacer);
      assert.equal(takes.reduce((a, b) => a + b, 0), 2 * body.length, 'a resend draws its bytes again');
      assert.equal(first.etag, md5Hex(body));
      assert.equal(again.etag, md5Hex(body));
      await sink.completeUpload(k, id, [again]);
      assert.ok((await sink.getRange(k, 0, body.length)).equals(body));
      await sink.deleteObject(k);
    });

    test('parts uploaded out of order and concurrently assemble in part-number order', async () => {
      const k = key('out-of-order');
      const bodies = [randomBytes(min), randomBytes(min), randomBytes(1000)];
      const id = await sink.createUpload(k, {});
      await Promise.all([3, 1, 2].map((n) => sink.uploadPart(k, id, n, bodies[n - 1]!)));
      const listed = await sink.listParts(k, id);
      assert.deepEqual(listed.map((p) => p.partNumber), [1, 2, 3]);
      await sink.completeUpload(k, id, listed);
      const got = await sink.getRange(k, 0, 2 * min + 1000);
      assert.ok(got.equals(Buffer.concat(bodies)), 'object bytes are the parts in part-number order');
      await sink.deleteObject(k);
    });

    test('re-uploading a part number is idempotent and the last upload wins; a stale ETag is refused with INVALID_PART', async () => {
      const k = key('reupload');
      const [a, b, last] = [randomBytes(min), randomBytes(min), randomBytes(333)];
      const id = await sink.createUpload(k, {});
      const first = await sink.uploadPart(k, id, 1, a);
      const again = await sink.uploadPart(k, id, 1, a);
      assert.equal(again.etag, first.etag);
      assert.deepEqual((await sink.listParts(k, id)).map((p) => [p.partNumber, p.etag]), [[1, md5Hex(a)]]);
      const replaced = await sink.uploadPart(k, id, 1, b);
      const tail = await sink.uploadPart(k, id, 2, last);
      assert.deepEqual((await sink.listParts(k, id)).map((p) => [p.partNumber, p.etag]), [[1, md5Hex(b)], [2, md5Hex(last)]]);
      await rejectsWithCode(sink.completeUpload(k, id, [first, tail]), STORE.INVALID_PART, false);
      await sink.completeUpload(k, id, [replaced, tail]);
      assert.ok((await sink.getRange(k, 0, min + 333)).equals(Buffer.concat([b, last])));
      await sink.deleteObject(k);
    });

    test('abort removes the upload from listUploads and listParts; later calls fail with NO_SUCH_UPLOAD', async () => {
      const k = key('abort');
      const id = await sink.createUpload(k, {});
      await sink.uploadPart(k, id, 1, randomBytes(4096));
      assert.ok((await sink.listUploads(k)).some((u) => u.uploadId === id && u.key === k), 'listUploads shows the pending upload');
      await sink.abortUpload(k, id);
      assert.ok(!(await sink.listUploads(k)).some((u) => u.uploadId === id), 'listUploads forgets the aborted upload');
      await rejectsWithCode(sink.listParts(k, id), STORE.NO_SUCH_UPLOAD, false);
      await rejectsWithCode(sink.uploadPart(k, id, 2, randomBytes(10)), STORE.NO_SUCH_UPLOAD, false);
      await rejectsWithCode(sink.completeUpload(k, id, [{ partNumber: 1, etag: md5Hex(Buffer.alloc(1)), size: 1 }]), STORE.NO_SUCH_UPLOAD, false);
      await rejectsWithCode(sink.abortUpload(k, id), STORE.NO_SUCH_UPLOAD, false);
    });

    test('complete naming a part that was never uploaded is refused with INVALID_PART', async () => {
      const k = key('missing-part');
      const id = await sink.createUpload(k, {});
      const [p1, p3] = [await sink.uploadPart(k, id, 1, randomBytes(min)), await sink.uploadPart(k, id, 3, randomBytes(100))];
      const ghost = { partNumber: 2, etag: md5Hex(Buffer.from('never sent')), size: min };
      await rejectsWithCode(sink.completeUpload(k, id, [p1, ghost, p3]), STORE.INVALID_PART, false);
      assert.equal(await sink.head(k), undefined, 'no object appears');
      await sink.abortUpload(k, id);
    });

    test('complete listing part numbers out of ascending order is refused with INVALID_PART_ORDER', async () => {
      const k = key('order');
      const id = await sink.createUpload(k, {});
      const refs = await putParts(k, id, [randomBytes(min), randomBytes(10)]);
      await rejectsWithCode(sink.completeUpload(k, id, [refs[1]!, refs[0]!]), STORE.INVALID_PART_ORDER, false);
      await sink.abortUpload(k, id);
    });

    test('a damaged part (a body other than the one its part checksum was computed over) is refused with BAD_DIGEST, whatever checksum the store verifies', async (ctx) => {
      const k = key('bad-digest');
      const id = await sink.createUpload(k, {});
      const intended = randomBytes(64 * 1024);
      const damaged = Buffer.from(intended);
      damaged[12345] ^= 0x20;
      ctx.diagnostic(`${name}: part checksum ${sink.capabilities.partChecksum}`);
      await assert.rejects(sink.uploadDamagedPart(k, id, 1, damaged, intended), (err: unknown) => {
        assert.ok(isVmxferError(err) && err.code === STORE.BAD_DIGEST.code, String(err));
        assert.equal(err.category, 'integrity');
        assert.equal(err.retryable, false);
        return true;
      });
      // OSS takes the part and returns its CRC-64 of what arrived: the sink refused the answer, and the engine sends the part again over it.
      if (storeChecksPart()) assert.deepEqual(await sink.listParts(k, id), [], 'the damaged part was not kept');
      const ref = await sink.uploadPart(k, id, 1, intended);
      assert.equal(ref.checksums?.[sink.capabilities.partChecksum], partChecksum(sink.capabilities.partChecksum, intended), 'the part carries the checksum the store verified');
      assert.deepEqual((await sink.listParts(k, id)).map((p) => p.etag), [md5Hex(intended)], 'the intended part is the one kept');
      await sink.abortUpload(k, id);
    });

    test('a part under the minimum size that is not the last fails complete with ENTITY_TOO_SMALL', async () => {
      const k = key('too-small');
      const id = await sink.createUpload(k, {});
      const refs = await putParts(k, id, [randomBytes(min - 1), randomBytes(min)]);
      await rejectsWithCode(sink.completeUpload(k, id, refs), STORE.ENTITY_TOO_SMALL, false);
      await sink.abortUpload(k, id);
    });

    test('metadata, content type and tags round-trip through createUpload, head and getTags', async () => {
      const k = key('metadata');
      const metadata = { 'source-format': 'vmdk', 'source-sha256': md5Hex(Buffer.from('m')) + md5Hex(Buffer.from('n')) };
      const tags = { project: 'vmxfer', disk: 'boot disk 1', 'cost-center': 'a=b&c' };
      const id = await sink.createUpload(k, { metadata, tags, contentType: 'application/octet-stream' });
      const refs = await putParts(k, id, [randomBytes(1234)]);
      await sink.completeUpload(k, id, refs);
      assert.deepEqual((await sink.head(k))?.metadata, metadata);
      assert.deepEqual(await sink.getTags(k), tags);
      await sink.deleteObject(k);
    });

    test('putTags replaces the whole tag set after complete; tags of a missing key fail with NO_SUCH_KEY', async () => {
      const k = key('put-tags');
      const id = await sink.createUpload(k, { tags: { project: 'vmxfer', stale: 'yes' } });
      await sink.completeUpload(k, id, await putParts(k, id, [randomBytes(4321)]));
      const sha = md5Hex(Buffer.from('a')) + md5Hex(Buffer.from('b'));
      await sink.putTags(k, { project: 'vmxfer', 'vmxfer-sha256': sha });
      assert.deepEqual(await sink.getTags(k), { project: 'vmxfer', 'vmxfer-sha256': sha });
      await sink.deleteObject(k);
      await rejectsWithCode(sink.getTags(k), STORE.NO_SUCH_KEY);
    });

    test('listParts and listUploads return every entry across pages', async () => {
      const prefix = key('listing');
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await sink.createUpload(`${prefix}/${i}`, {}));
      const bodies = Array.from({ length: 5 }, (_, i) => randomBytes(100 + i));
      await putParts(`${prefix}/0`, ids[0]!, bodies, [5, 4, 3, 2, 1]);
      assert.deepEqual((await sink.listParts(`${prefix}/0`, ids[0]!)).map((p) => [p.partNumber, p.size, p.etag]), bodies.map((b, i) => [i + 1, b.length, md5Hex(b)]));
      const pending = await sink.listUploads(`${prefix}/`);
      assert.deepEqual(pending.map((u) => u.uploadId).sort(), [...ids].sort());
      assert.deepEqual((await sink.listUploads(`${prefix}/1`)).map((u) => u.uploadId), [ids[1]]);
      for (const [i, id] of ids.entries()) await sink.abortUpload(`${prefix}/${i}`, id);
    });

    test('listObjects yields every completed object under a prefix in key order across pages (size, ETag, last modified), never pending uploads or other prefixes', async () => {
      const base = `conformance-${run}/objects`;
      const started = Date.now() - 5_000;
      const put = async (k: string, body: Buffer) => {
        const id = await sink.createUpload(k, {});
        const ref = await sink.uploadPart(k, id, 1, body);
        return sink.completeUpload(k, id, [ref]);
      };
      // More keys than a page of the listings the targets are built with, in nested "directories".
      const keys = ['a/1', 'a/2', 'a/b/3', 'a-x', 'c', 'd/e/f'].map((k) => `${base}/${k}`);
      const infos = new Map<string, { size: number; etag: string }>();
      for (const [i, k] of [...keys].reverse().entries()) infos.set(k, await put(k, randomBytes(50 + i)));
      const outside = `${base}x/outside`;
      await put(outside, randomBytes(10));
      const pendingKey = `${base}/pending`;
      const pendingId = await sink.createUpload(pendingKey, {});
      try {
        const listed = [];
        for await (const o of sink.listObjects(`${base}/`)) listed.push(o);
        assert.deepEqual(listed.map((o) => o.key), [...keys].sort());
        for (const o of listed) {
          const info = infos.get(o.key)!;
          assert.deepEqual([o.size, o.etag], [info.size, info.etag], o.key);
          assert.ok(o.lastModified.getTime() >= started && o.lastModified.getTime() <= Date.now() + 5_000, `${o.key} last modified ${o.lastModified.toISOString()}`);
        }
        const sub = [];
        for await (const o of sink.listObjects(`${base}/a/`)) sub.push(o.key);
        assert.deepEqual(sub, [`${base}/a/1`, `${base}/a/2`, `${base}/a/b/3`]);
        const none = [];
        for await (const o of sink.listObjects(`${base}/nothing-here/`)) none.push(o.key);
        assert.deepEqual(none, []);
      } finally {
        await sink.abortUpload(pendingKey, pendingId);
        for (const k of [...keys, outside]) await sink.deleteObject(k);
      }
    });

    test('reads past the end and reads of a missing key fail with BAD_RANGE and NO_SUCH_KEY', async () => {
      const k = key('range');
      const id = await sink.createUpload(k, {});
      await sink.completeUpload(k, id, await putParts(k, id, [randomBytes(500)]));
      await rejectsWithCode(sink.getRange(k, 100, 501), STORE.BAD_RANGE, false);
      await rejectsWithCode(sink.getRange(k, 10, 5), STORE.BAD_RANGE, false);
      await rejectsWithCode(sink.getRange(key('absent'), 0, 10), STORE.NO_SUCH_KEY, false);
      await sink.deleteObject(k);
      await sink.deleteObject(k);
    });

    test('a missing bucket fails fast with NO_SUCH_BUCKET, not retryable', async () => {
      const started = Date.now();
      await rejectsWithCode(t.missingBucket.createUpload(key('nobucket'), {}), STORE.NO_SUCH_BUCKET, false);
      assert.ok(Date.now() - started < 5000, 'no retries on a permanent error');
    });

    test('wrong credentials fail fast with typed, non-retryable errors', async (ctx) => {
      if (!t.wrongSecret || !t.unknownAccessKey) {
        ctx.skip(`${name} has no credentials`);
        return;
      }
      const started = Date.now();
      await rejectsWithCode(t.wrongSecret.createUpload(key('creds'), {}), STORE.SIGNATURE_MISMATCH, false);
      await rejectsWithCode(t.unknownAccessKey.createUpload(key('creds'), {}), STORE.INVALID_ACCESS_KEY, false);
      assert.ok(Date.now() - started < 5000, 'no retries on a permanent error');
    });

    test('an aborted signal stops an operation with VMX_ABORTED before anything is sent', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(sink.createUpload(key('aborted'), {}, ac.signal), (err: unknown) => isVmxferError(err) && err.code === 'VMX_ABORTED');
      assert.deepEqual(await sink.listUploads(key('aborted')), []);
    });

    test('part numbers outside 1..maxParts are refused before sending', async () => {
      const k = key('part-number');
      const id = await sink.createUpload(k, {});
      await rejectsWithCode(sink.uploadPart(k, id, 0, randomBytes(10)), STORE.BAD_PART_NUMBER);
      await rejectsWithCode(sink.uploadPart(k, id, sink.limits.maxParts + 1, randomBytes(10)), STORE.BAD_PART_NUMBER);
      await sink.abortUpload(k, id);
    });

    test('ETags are bare lower-case hex everywhere: uploadPart, listParts, completeUpload and head', async () => {
      const k = key('etag-form');
      const id = await sink.createUpload(k, {});
      const refs = await putParts(k, id, [randomBytes(min), randomBytes(77)]);
      const listed = await sink.listParts(k, id);
      for (const e of [...refs, ...listed].map((p) => p.etag)) assert.match(e, /^[0-9a-f]{32}$/, `part ETag ${e}`);
      const info = await sink.completeUpload(k, id, listed);
      assert.match(info.etag, /^[0-9a-f]{32}-2$/, `object ETag ${info.etag}`);
      assert.equal((await sink.head(k))?.etag, info.etag);
      await sink.deleteObject(k);
    });

    test('complete is refused, never repaired, for a list out of order, with a part twice or with no parts', async () => {
      const k = key('complete-shape');
      const id = await sink.createUpload(k, {});
      const [p1, p2, p3] = await putParts(k, id, [randomBytes(min), randomBytes(min), randomBytes(10)]);
      await rejectsWithCode(sink.completeUpload(k, id, [p1!, p3!, p2!]), STORE.INVALID_PART_ORDER, false);
      await rejectsWithCode(sink.completeUpload(k, id, [p1!, p2!, p2!, p3!]), STORE.INVALID_PART_ORDER, false);
      await rejectsWithCode(sink.completeUpload(k, id, []), STORE.INVALID_PART, false);
      assert.equal(await sink.head(k), undefined, 'no object appears');
      assert.deepEqual((await sink.listParts(k, id)).map((p) => p.partNumber), [1, 2, 3], 'the upload is intact');
      await sink.abortUpload(k, id);
    });

    test('capabilities are what the store vouches for: its completed object carries the checksum it claims', async () => {
      const k = key('capabilities');
      const bodies = [randomBytes(min), randomBytes(4321)];
      const id = await sink.createUpload(k, {});
      const info = await sink.completeUpload(k, id, await putParts(k, id, bodies));
      const etag = createHash('md5').update(Buffer.concat(bodies.map((b) => createHash('md5').update(b).digest()))).digest('hex') + '-2';
      const head = await sink.head(k);
      if (sink.capabilities.multipartEtag) {
        assert.equal(info.etag, etag, 'a sink claiming S3 multipart ETags gives the MD5 of the part MD5s');
        assert.equal(head?.etag, etag);
      }
      const crc = crc64('xz', Buffer.concat(bodies)).toString();
      if (sink.capabilities.objectChecksum === 'crc64ecma') {
        assert.equal(info.crc64ecma, crc, 'a sink claiming a whole-object CRC-64 reports it on complete');
        assert.equal(head?.crc64ecma, crc, 'and on head');
      }
      const nvme = crc64ToS3(crc64('nvme', Buffer.concat(bodies)));
      if (sink.capabilities.objectChecksum === 'crc64nvme') {
        assert.equal(info.checksums?.crc64nvme, nvme, 'a sink claiming a full-object CRC-64/NVME reports it on complete');
        assert.equal(head?.checksums?.crc64nvme, nvme, 'and on head');
      }
      const c32 = crc32cToS3(crc32c(Buffer.concat(bodies)));
      if (sink.capabilities.objectChecksum === 'crc32c') {
        assert.equal(info.checksums?.crc32c, c32, 'a sink claiming a full-object CRC-32C reports it on complete');
        assert.equal(head?.checksums?.crc32c, c32, 'and on head');
      }
      assert.ok(sink.capabilities.multipartEtag || sink.capabilities.objectChecksum !== undefined, 'every sink vouches for its objects with some checksum');
      await sink.deleteObject(k);
    });

    /** The sink's copyPart, or a skip/failure: a store either has it or says it has none. */
    function copier(ctx: { skip(why: string): void }): NonNullable<ObjectSink['copyPart']> | undefined {
      if (t.noPartCopy) {
        assert.equal(sink.copyPart, undefined, 'a store that declares no part copy has no copyPart');
        ctx.skip('the store has no server-side part copy');
        return undefined;
      }
      assert.equal(typeof sink.copyPart, 'function', 'the store copies parts server-side (copyPart)');
      return sink.copyPart!.bind(sink);
    }

    test('copyPart makes parts from ranges of an existing object; mixed with sent parts they complete into the exact bytes', async (ctx) => {
      const copyPart = copier(ctx);
      if (!copyPart) return;
      const src = key('copy-source');
      const dst = key('copy-dest');
      const old = [randomBytes(min), randomBytes(min), randomBytes(min + 99)];
      const id0 = await sink.createUpload(src, {});
      const srcInfo = await sink.completeUpload(src, id0, await putParts(src, id0, old));
      const fresh = randomBytes(min);
      const id = await sink.createUpload(dst, {});
      const p1 = await copyPart(dst, id, 1, { key: src, start: 0, end: min, ifMatch: srcInfo.etag });
      const p2 = await sink.uploadPart(dst, id, 2, fresh);
      // A range that straddles the source's part boundaries: the store copies bytes, not parts.
      const p3 = await copyPart(dst, id, 3, { key: src, start: min + 7, end: 3 * min + 99, ifMatch: srcInfo.etag });
      const whole = Buffer.concat(old);
      assert.equal(p1.etag, md5Hex(old[0]!), 'a copied part\'s ETag is the MD5 of the bytes copied');
      assert.equal(p3.etag, md5Hex(whole.subarray(min + 7)));
      assert.deepEqual([p1.size, p3.size], [min, 2 * min + 92]);
      const listed = await sink.listParts(dst, id);
      assert.deepEqual(listed.map((p) => [p.partNumber, p.etag, p.size]), [p1, p2, p3].map((p) => [p.partNumber, p.etag, p.size]));
      const info = await sink.completeUpload(dst, id, [p1, p2, p3]);
      const expect = Buffer.concat([old[0]!, fresh, whole.subarray(min + 7)]);
      assert.equal(info.size, expect.length);
      assert.ok((await sink.getRange(dst, 0, expect.length)).equals(expect), 'the object is the copied ranges and the sent part, in order');
      await sink.deleteObject(src);
      await sink.deleteObject(dst);
    });

    test('copyPart from the very key being replaced: Complete swaps the object atomically, copied ranges are the old bytes', async (ctx) => {
      const copyPart = copier(ctx);
      if (!copyPart) return;
      const k = key('copy-self');
      const old = [randomBytes(min), randomBytes(min), randomBytes(500)];
      const id0 = await sink.createUpload(k, {});
      const first = await sink.completeUpload(k, id0, await putParts(k, id0, old));
      const changed = randomBytes(min);
      const id = await sink.createUpload(k, {});
      const parts = [
        await copyPart(k, id, 1, { key: k, start: 0, end: min, ifMatch: first.etag }),
        await sink.uploadPart(k, id, 2, changed),
        await copyPart(k, id, 3, { key: k, start: 2 * min, end: 2 * min + 500, ifMatch: first.etag }),
      ];
      assert.ok((await sink.getRange(k, 0, 2 * min + 500)).equals(Buffer.concat(old)), 'until Complete the old object stands');
      await sink.completeUpload(k, id, parts);
      assert.ok((await sink.getRange(k, 0, 2 * min + 500)).equals(Buffer.concat([old[0]!, changed, old[2]!])));
      await sink.deleteObject(k);
    });

    test('copyPart refuses a source whose ETag changed (STORE_PRECONDITION_FAILED) and a missing source (STORE_NO_SUCH_KEY), neither retryable', async (ctx) => {
      const copyPart = copier(ctx);
      if (!copyPart) return;
      const src = key('copy-precondition');
      const dst = key('copy-precondition-dest');
      const id0 = await sink.createUpload(src, {});
      await sink.completeUpload(src, id0, await putParts(src, id0, [randomBytes(min), randomBytes(10)]));
      const id = await sink.createUpload(dst, {});
      await rejectsWithCode(copyPart(dst, id, 1, { key: key('copy-no-such-source'), start: 0, end: min }), STORE.NO_SUCH_KEY, false);
      const stale = copyPart(dst, id, 1, { key: src, start: 0, end: min, ifMatch: md5Hex(Buffer.from('another object')) });
      if (t.copyIgnoresIfMatch) {
        // The engine cannot lean on this server's precondition: it compares each copied part's ETag with its manifest instead.
        ctx.diagnostic(`if-match not honoured: ${t.copyIgnoresIfMatch}`);
        const part = await stale;
        assert.notEqual(part.etag, md5Hex(Buffer.from('another object')), 'the copied part\'s ETag tells which bytes were copied');
        await sink.abortUpload(dst, id);
        await sink.deleteObject(src);
        return;
      }
      await rejectsWithCode(stale, STORE.PRECONDITION_FAILED, false);
      assert.deepEqual(await sink.listParts(dst, id), [], 'no part was made');
      await sink.abortUpload(dst, id);
      await sink.deleteObject(src);
    });

    test('the decorators (retry, stall guard, trace, throttle) pass copyPart through, and do not invent it', async (ctx) => {
      const copyPart = copier(ctx);
      if (!copyPart) return;
      const src = key('copy-decorated');
      const id0 = await sink.createUpload(src, {});
      const body = randomBytes(min + 5);
      const info = await sink.completeUpload(src, id0, await putParts(src, id0, [body]));
      // The first copy fails as a dropped connection would: only a retry decorator that wraps copyPart gets past it.
      let failures = 1;
      const flaky = decorateSink(sink, {
        copyPart: async (...a) => {
          if (failures-- > 0) throw vmxError(STORE.NETWORK, 'connection reset (conformance decorator)', { retryable: true });
          return sink.copyPart!(...a);
        },
      });
      let decorated: ObjectSink = retryingSink(flaky, { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 });
      decorated = stallGuardedSink(decorated, { idleMs: 30_000, floorBytesPerSecond: 1024 }, new StallState());
      decorated = throttledSink(tracedSink(decorated), new TokenBucket(1024 * 1024 * 1024));
      assert.equal(typeof decorated.copyPart, 'function');
      const dst = key('copy-decorated-dest');
      const id = await decorated.createUpload(dst, {});
      const part = await decorated.copyPart!(dst, id, 1, { key: src, start: 5, end: min + 5, ifMatch: info.etag });
      await decorated.completeUpload(dst, id, [part]);
      assert.ok((await sink.getRange(dst, 0, min)).equals(body.subarray(5)));
      assert.equal(failures, -1, 'the failed copy was retried');
      const plain: ObjectSink = { ...decorateSink(sink, {}), copyPart: undefined };
      assert.equal(retryingSink(tracedSink(plain)).copyPart, undefined, 'a sink without the capability stays without it through decorators');
      await sink.deleteObject(src);
      await sink.deleteObject(dst);
    });

    test('a Complete whose answer is lost after the store completed (at the seam, for every store) is confirmed by HEAD and the local checksum', async () => {
      const k = key('lost-complete-seam');
      const bodies = [randomBytes(min), randomBytes(321)];
      const id = await sink.createUpload(k, {});
      const parts = (await putParts(k, id, bodies)).map((r, i) => checkpointPart(sink, r, bodies[i]!));
      let completes = 0;
      const lossy = decorateSink(sink, {
        completeUpload: async (...a) => {
          completes++;
          await sink.completeUpload(...a);
          throw vmxError(STORE.NETWORK, 'the answer was lost on the way back (conformance decorator)', { retryable: true });
        },
      });
      const done = await completeOrConfirm(retryingSink(lossy, { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }), k, id, parts, false);
      assert.ok(completes >= 1);
      assert.notEqual(done.verified, 'size', 'a checksum vouched for the object');
      assert.ok((await sink.getRange(k, 0, min + 321)).equals(Buffer.concat(bodies)));
      await sink.deleteObject(k);
    });

    describe('through a fault proxy', () => {
      let proxy: FaultProxy | undefined;
      let viaProxy: (ObjectSink & DamagedPartSender) | undefined;
      before(async () => {
        if (!t.viaEndpoint || !t.endpoint) return;
        proxy = await startFaultProxy(t.endpoint);
        viaProxy = t.viaEndpoint(proxy.endpoint);
      });
      after(async () => {
        (viaProxy as { close?: () => void } | undefined)?.close?.();
        await proxy?.close();
      });
      const plan = (p: FaultPlan) => proxy!.setPlan(p);

      test('the same condition is classified the same on every store: busy, failed, reset are retryable; NotImplemented is a configuration error', async (ctx) => {
        if (!viaProxy) return ctx.skip(`${name} has no endpoint to put a proxy in front of`);
        const k = key('classes');
        const id = await sink.createUpload(k, {});
        const cases = [
          [{ kind: 'status', status: 503, code: 'SlowDown' }, STORE.SERVER_BUSY, true],
          [{ kind: 'status', status: 503, code: 'ServerBusy' }, STORE.SERVER_BUSY, true],
          [{ kind: 'status', status: 500, code: 'InternalError' }, STORE.SERVER_ERROR, true],
          [{ kind: 'status', status: 400, code: 'InvalidDigest' }, STORE.BAD_DIGEST, false],
          [{ kind: 'status', status: 400, code: 'BadDigest' }, STORE.BAD_DIGEST, false],
          [{ kind: 'status', status: 501, code: 'NotImplemented' }, STORE.CONFIG, false],
          [{ kind: 'reset' }, STORE.NETWORK, true],
        ] as const;
        for (const [fault, def, retryable] of cases) {
          plan((r) => (r.partNumber === 1 ? fault : undefined));
          await rejectsWithCode(viaProxy.uploadPart(k, id, 1, randomBytes(2048)), def, retryable);
        }
        plan(() => undefined);
        const started = Date.now();
        plan((r) => (r.partNumber === 1 ? { kind: 'status', status: 501, code: 'NotImplemented' } : undefined));
        await assert.rejects(retryingSink(viaProxy).uploadPart(k, id, 1, randomBytes(10)), (err: unknown) => isVmxferError(err) && err.code === STORE.CONFIG.code && /endpoint/.test(err.message));
        assert.ok(Date.now() - started < 2000, 'NotImplemented is not retried');
        assert.equal(proxy!.log.filter((e) => e.fault === 'status' && e.status === 501).length, 2, 'one 501 from the case table, one from the retrying sink: not retried');
        plan(() => undefined);
        await sink.abortUpload(k, id);
      });

      test(`a part damaged in flight is re-sent by the engine, at most ${DIGEST_ATTEMPTS} times, never by the retry decorator`, async (ctx) => {
        if (!viaProxy) return ctx.skip(`${name} has no endpoint to put a proxy in front of`);
        const k = key('digest-resend');
        const id = await sink.createUpload(k, {});
        const body = randomBytes(64 * 1024);
        const retrying = retryingSink(viaProxy, { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 });
        let flips = 2;
        plan((r) => (r.partNumber === 1 && flips-- > 0 ? { kind: 'flip' } : undefined));
        const corrupted: number[] = [];
        const ref = await sendPart(retrying, k, id, 1, body, undefined, (attempt) => corrupted.push(attempt));
        assert.deepEqual(corrupted, [1, 2], 'two damaged sends reported, the third stored');
        assert.equal(ref.etag, md5Hex(body));
        plan((r) => (r.partNumber === 2 ? { kind: 'flip' } : undefined));
        await assert.rejects(sendPart(retrying, k, id, 2, body, undefined), (err: unknown) => isVmxferError(err) && err.code === 'XFER_RETRIES_EXHAUSTED' && /corrupted 4 times/.test(err.message));
        assert.equal(proxy!.log.filter((e) => e.partNumber === 2 && e.url.includes('/digest-resend.img')).length, DIGEST_ATTEMPTS, 'each damaged send went out once');
        plan(() => undefined);
        // OSS keeps what arrived (the sink refused its CRC-64); the engine never completes with it.
        const kept = (await sink.listParts(k, id)).filter((p) => p.partNumber === 1 || storeChecksPart());
        assert.deepEqual(kept.map((p) => p.partNumber), [1], 'no damaged part was kept');
        await sink.abortUpload(k, id);
      });

      test('a request on which no byte moves is abandoned after the idle time and retried; the sink shows stalled until bytes move; STORE_STALLED when retries run out', async (ctx) => {
        if (!t.viaEndpoint || !proxy) return ctx.skip(`${name} has no endpoint to put a proxy in front of`);
        const impatient = t.viaEndpoint(proxy.endpoint, { stallTimeoutMs: 300 });
        try {
          const k = key('stall');
          const id = await sink.createUpload(k, {});
          const state = new StallState();
          const changes: boolean[] = [];
          state.on('change', (s) => changes.push(s));
          const guarded = retryingSink(stallGuardedSink(impatient, { idleMs: 300, floorBytesPerSecond: 64 * 1024 }, state), { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 });
          let stalls = 2;
          plan((r) => (r.partNumber === 1 && stalls-- > 0 ? { kind: 'stall', ms: 600_000 } : undefined));
          const body = randomBytes(4096);
          const started = Date.now();
          const ref = await guarded.uploadPart(k, id, 1, body);
          assert.equal(ref.etag, md5Hex(body));
          assert.ok(Date.now() - started < 5000, `two stalls of 300 ms idle, then success (${Date.now() - started} ms)`);
          assert.deepEqual(changes, [true, false], 'stalled, then moving again');
          plan((r) => (r.partNumber === 2 ? { kind: 'stall', ms: 600_000 } : undefined));
          await rejectsWithCode(guarded.uploadPart(k, id, 2, body), STORE.STALLED, false);
          assert.equal(proxy.log.filter((e) => e.partNumber === 2 && e.url.includes('/stall.img')).length, 4, 'every attempt stalled, then the typed error');
          assert.equal(state.stalled, true);
          plan(() => undefined);
          await sink.abortUpload(k, id);
        } finally {
          (impatient as { close?: () => void }).close?.();
        }
      });

      test('a part may take the idle time plus its size at the floor rate, no more, however patient the transport', async (ctx) => {
        if (!viaProxy) return ctx.skip(`${name} has no endpoint to put a proxy in front of`);
        const policy = { idleMs: 200, floorBytesPerSecond: 64 * 1024 };
        assert.equal(transferDeadlineMs({ idleMs: 45_000, floorBytesPerSecond: 64 * 1024 }, 64 * 1024 * 1024), 45_000 + 1024_000, 'a 64 MiB part may take 45 s + 1024 s');
        const k = key('deadline');
        const id = await sink.createUpload(k, {});
        const guarded = stallGuardedSink(viaProxy, policy, new StallState());
        plan((r) => (r.partNumber === 1 ? { kind: 'stall', ms: 600_000 } : undefined));
        const started = Date.now();
        await assert.rejects(guarded.uploadPart(k, id, 1, randomBytes(64 * 1024)), (err: unknown) => isVmxferError(err) && err.code === STORE.STALLED.code && err.retryable && /1200 ms/.test(err.message));
        const took = Date.now() - started;
        assert.ok(took >= 1100 && took < 4000, `the 64 KiB part was given 200 ms + 1 s (${took} ms)`);
        plan(() => undefined);
        await sink.abortUpload(k, id);
      });

      test('a Complete whose answer is lost is confirmed by HEAD and the checksum computed locally', async (ctx) => {
        if (!viaProxy) return ctx.skip(`${name} has no endpoint to put a proxy in front of`);
        const k = key('lost-complete');
        const bodies = [randomBytes(min), randomBytes(999)];
        const retrying = retryingSink(viaProxy, { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 });
        const id = await retrying.createUpload(k, {});
        const refs = await putParts(k, id, bodies);
        const parts = refs.map((r, i) => checkpointPart(sink, r, bodies[i]!));
        plan((r) => (r.method === 'POST' && r.url.includes('uploadId=') ? { kind: 'drop-answer' } : undefined));
        const done = await completeOrConfirm(retrying, k, id, parts, false);
        plan(() => undefined);
        assert.ok(proxy!.log.some((e) => e.fault === 'drop-answer'), 'the Complete answer was dropped');
        assert.equal(done.info.size, min + 999);
        assert.notEqual(done.verified, 'size', 'a checksum vouched for the object');
        assert.ok((await sink.getRange(k, 0, min + 999)).equals(Buffer.concat(bodies)));
        const otherBodies = [randomBytes(min), randomBytes(999)];
        const other = await sink.createUpload(k, {});
        const otherParts = (await putParts(k, other, otherBodies)).map((r, i) => checkpointPart(sink, r, otherBodies[i]!));
        plan((r) => (r.method === 'POST' && r.url.includes('uploadId=') ? { kind: 'status', status: 400, code: 'InvalidPart' } : undefined));
        // The object there (the first one, same size) is not the one these parts make: the failure stands.
        await rejectsWithCode(completeOrConfirm(viaProxy, k, other, otherParts, false), STORE.INVALID_PART, false);
        plan(() => undefined);
        await sink.abortUpload(k, other);
        await sink.deleteObject(k);
      });
    });
  });
}
