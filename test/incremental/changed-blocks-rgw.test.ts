import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GiB, MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { access } from 'node:fs/promises';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { incrementalRgw } from '../helpers/incremental-rgw.js';
import { jsonResult, runAndKill } from '../helpers/killable-cli.js';
import { rgwLogCursor, rgwUploadRequests } from '../helpers/rgw-request-log.js';
import { changeBlocks, touchedParts, writeSparseDisk } from '../helpers/changed-disk.js';

/**
 * upload --incremental --changed-blocks against a real Ceph RGW: only the parts the list touches are
 * read from the source and sent (RGW's access log for what arrived; the pass's bytesRead for what was
 * read, and a range changed behind the list's back that stays old in the object, which only a
 * source never read there can explain); every other part is an UploadPartCopy.
 */
const PART = 8 * MiB;
const BLOCK = 1 * MiB;
const { world, args, upload } = incrementalRgw('vmxfer-cbt-rgw-', 'cbt');

async function writeList(path: string, virtualSize: number, offsets: number[], length: number): Promise<void> {
  await writeFile(path, JSON.stringify({ version: 1, virtualSize, extents: offsets.map((offset) => ({ offset, length })) }));
}

async function removeObject(key: string): Promise<void> {
  const sink = world.s3.sink();
  await sink.deleteObject(key);
  await sink.deleteObject(`${key}.vmxfer-manifest`);
}

test('RGW: 1 GiB raw disk, 1% of its 1 MiB blocks changed, --changed-blocks: only the touched parts are read and sent, RGW copies the rest, the object equals the new source', async (ctx) => {
  const src = join(world.work.dir, 'disk-1g.raw');
  const key = `cbt/disk-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, GiB, 96, BLOCK);
  const first = await upload(src, key);
  assert.equal(first.result.incremental.base, 'none');
  const changed = await changeBlocks(src, GiB, GiB / BLOCK / 100, BLOCK);
  const touched = touchedParts(changed, BLOCK, PART);
  const list = join(world.work.dir, 'changed.json');
  await writeList(list, GiB, changed, BLOCK);
  const second = await upload(src, key, ['--changed-blocks', list]);
  const r = second.result;
  assert.equal(r.incremental.changeList, true, second.stderr);
  assert.equal(await world.s3.objectSha256(key), await sha256File(src), 'the object equals the new source byte for byte');
  assert.equal(r.incremental.bytesRead, touched.size * PART, 'only the touched parts were read from the source');
  const log = (await rgwUploadRequests(world.s3.env.stateDir, r.uploadId)).filter((e) => e.status === 200);
  const sent = log.filter((e) => e.operation === 'UploadPart');
  const copied = log.filter((e) => e.operation === 'UploadPartCopy');
  const bytesIn = sent.reduce((n, e) => n + e.bytes, 0);
  assert.deepEqual(sent.map((e) => Number(e.query.get('partNumber'))).sort((a, b) => a - b), [...touched].sort((a, b) => a - b), 'RGW received exactly the touched parts');
  assert.equal(copied.length, r.parts - touched.size, 'RGW copied every other part itself');
  assert.ok(bytesIn <= touched.size * PART, `RGW logged ${bytesIn} bytes of part bodies, at most the ${touched.size} changed parts`);
  assert.equal(r.bytesSent, bytesIn);
  ctx.diagnostic(`${changed.length} MiB changed in ${touched.size} of ${r.parts} parts: read ${r.incremental.bytesRead} bytes of ${GiB}, sent ${bytesIn} (RGW log), ${copied.length} parts copied server-side`);

  // The next pass starts from the manifest this one wrote.
  const third = await upload(src, key, ['--changed-blocks', await emptyList(GiB)]);
  assert.deepEqual([third.result.incremental.bytesRead, third.result.partsSent, third.result.partsCopied], [0, 0, r.parts]);
  assert.equal(await world.s3.objectSha256(key), await sha256File(src));
  await removeObject(key);
});

async function emptyList(size: number): Promise<string> {
  const path = join(world.work.dir, `empty-${size}.json`);
  await writeList(path, size, [], 1);
  return path;
}

test('RGW: a part the list calls unchanged is copied from the object without the source being read there (the contract: the list must name every write)', async () => {
  const size = 32 * MiB;
  const src = join(world.work.dir, 'disk-contract.raw');
  const key = `cbt/contract-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, size, 8, BLOCK);
  await upload(src, key);
  const before = await world.s3.sink().getRange(key, 2 * PART, 3 * PART);
  // Part 3 changes but the list names only part 1's first block.
  const fh = await open(src, 'r+');
  await fh.write(randomBytes(BLOCK), 0, BLOCK, 0);
  await fh.write(randomBytes(BLOCK), 0, BLOCK, 2 * PART);
  await fh.close();
  const list = join(world.work.dir, 'lying.json');
  await writeList(list, size, [0], BLOCK);
  const r = (await upload(src, key, ['--changed-blocks', list])).result;
  assert.equal(r.incremental.bytesRead, PART);
  const after = await world.s3.sink().getRange(key, 2 * PART, 3 * PART);
  assert.ok(after.equals(before), 'part 3 holds the old bytes: the source was not read there');
  const head = await world.s3.sink().getRange(key, 0, BLOCK);
  const fh2 = await open(src, 'r');
  const want = Buffer.alloc(BLOCK);
  await fh2.read(want, 0, BLOCK, 0);
  await fh2.close();
  assert.ok(head.equals(want), 'part 1 holds the new bytes');
  await removeObject(key);
});

test('RGW: a list whose virtualSize is not the source\'s is refused (INCR_CHANGED_MISMATCH) and the object is left as it was', async () => {
  const size = 16 * MiB;
  const src = join(world.work.dir, 'disk-size.raw');
  const key = `cbt/size-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, size, 4, BLOCK);
  const first = await upload(src, key);
  const list = join(world.work.dir, 'other-size.json');
  await writeList(list, size * 2, [0], BLOCK);
  const r = await vmxfer(args(src, key, ['--changed-blocks', list]), { env: world.s3.cliEnv });
  assert.equal(r.code, EXIT_CODES['invalid-input'], r.stderr);
  assert.match(r.stderr, /INCR_CHANGED_MISMATCH/);
  assert.equal((await world.s3.sink().head(key))?.etag, first.result.etag);
  await removeObject(key);
});

test('RGW: without a manifest the change list cannot be used: a full upload with a warning', async () => {
  const size = 16 * MiB;
  const src = join(world.work.dir, 'disk-fresh.raw');
  const key = `cbt/fresh-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, size, 4, BLOCK);
  const { result, stderr } = await upload(src, key, ['--changed-blocks', await emptyList(size)]);
  assert.equal(result.incremental.changeList, false);
  assert.match(stderr, /warning: no manifest matches the object/);
  assert.equal(await world.s3.objectSha256(key), await sha256File(src));
  await removeObject(key);
});

/** `count` distinct random 1 MiB blocks written through qemu-io (pattern `fill`); their offsets. */
async function qemuWrites(img: string, size: number, count: number, fill: number): Promise<number[]> {
  const blocks = new Set<number>();
  while (blocks.size < count) blocks.add(randomInt(0, size / BLOCK));
  const offsets = [...blocks].map((b) => b * BLOCK).sort((a, b) => a - b);
  await run('qemu-io', [...offsets.flatMap((o) => ['-c', `write -P ${fill} ${o} ${BLOCK}`]), img]);
  return offsets;
}

test('RGW: 1 GiB qcow2 with a persistent dirty bitmap, 1% of its blocks written, --changed-since: only the dirty parts are read and sent, the raw object equals the new disk', async (ctx) => {
  const img = join(world.work.dir, 'disk-1g.qcow2');
  const key = `cbt/bitmap-${randomBytes(3).toString('hex')}.raw`;
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', img, '1G']);
  await qemuWrites(img, GiB, 48, 0x11);
  const first = await upload(img, key, ['--as', 'raw']);
  assert.equal(first.result.incremental.base, 'none');
  // The bitmap starts recording at the moment the pass read the image (the VM stopped between them).
  await run('qemu-img', ['bitmap', '--add', '--enable', img, 'b0']);
  const changed = await qemuWrites(img, GiB, GiB / BLOCK / 100, 0x5a);
  const touched = touchedParts(changed, BLOCK, PART);
  const second = await upload(img, key, ['--as', 'raw', '--changed-since', 'b0']);
  const r = second.result;
  assert.equal(r.incremental.changeList, true, second.stderr);
  const raw = join(world.work.dir, 'bitmap-now.raw');
  await run('qemu-img', ['convert', '-O', 'raw', img, raw]);
  assert.equal(await world.s3.objectSha256(key), await sha256File(raw), 'the object equals qemu-img convert of the new image');
  assert.equal(r.incremental.bytesRead, touched.size * PART, 'only the dirty parts were read from the image');
  const log = (await rgwUploadRequests(world.s3.env.stateDir, r.uploadId)).filter((e) => e.status === 200);
  const sent = log.filter((e) => e.operation === 'UploadPart');
  const bytesIn = sent.reduce((n, e) => n + e.bytes, 0);
  assert.deepEqual(sent.map((e) => Number(e.query.get('partNumber'))).sort((a, b) => a - b), [...touched].sort((a, b) => a - b));
  assert.equal(log.filter((e) => e.operation === 'UploadPartCopy').length, r.parts - touched.size);
  assert.ok(bytesIn <= touched.size * PART);
  ctx.diagnostic(`${changed.length} MiB written through qemu-io, dirty in ${touched.size} of ${r.parts} parts: read ${r.incremental.bytesRead} bytes, sent ${bytesIn} (RGW log)`);
  await removeObject(key);
});

test('--changed-since refuses a bitmap the image does not have, before anything is created', async () => {
  const img = join(world.work.dir, 'nobitmap.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', img, '16M']);
  const key = `cbt/nobitmap-${randomBytes(3).toString('hex')}.raw`;
  const r = await vmxfer(args(img, key, ['--as', 'raw', '--changed-since', 'b0']), { env: world.s3.cliEnv });
  assert.equal(r.code, EXIT_CODES['invalid-input'], r.stderr);
  assert.match(r.stderr, /INCR_BITMAP_INVALID/);
  assert.equal(await world.s3.sink().head(key), undefined);
});

test('RGW: kill -9 in the middle of a --changed-blocks pass, then --resume: confirmed parts are not redone, only the list\'s other parts are sent, the object is the source with its digest tags, vmxfer verify passes', async (ctx) => {
  const size = 96 * MiB;
  const src = join(world.work.dir, 'disk-cbt-kill.raw');
  const key = `cbt/kill-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, size, 16, BLOCK);
  await upload(src, key);
  // Parts 1, 3, 6 and 9 change; with one part in flight under --bwlimit the kill lands while part 3 is sent.
  const changed = [0, 2 * PART + BLOCK, 5 * PART, 8 * PART + 3 * BLOCK];
  const fh = await open(src, 'r+');
  for (const o of changed) await fh.write(randomBytes(BLOCK), 0, BLOCK, o);
  await fh.close();
  const touched = touchedParts(changed, BLOCK, PART);
  const list = join(world.work.dir, 'kill-list.json');
  await writeList(list, size, changed, BLOCK);
  const cp = join(world.work.dir, 'state', 'checkpoints', `${checkpointId(src, world.s3.url(key))}.json`);
  const kill = await runAndKill(args(src, key, ['--changed-blocks', list, '--concurrency', '1', '--bwlimit', '6MiB']), world.s3.cliEnv, cp, 2);
  assert.ok(!kill.finished, 'killed before the pass finished');
  assert.ok(kill.confirmed.includes(1), 'the changed part 1 was confirmed before the kill');

  // Another list is not this pass's: --resume refuses it and the checkpoint stays.
  const other = join(world.work.dir, 'kill-other.json');
  await writeList(other, size, [BLOCK], BLOCK);
  const refused = await vmxfer(args(src, key, ['--changed-blocks', other, '--resume']), { env: world.s3.cliEnv });
  assert.equal(refused.code, EXIT_CODES.integrity, refused.stderr);
  assert.match(refused.stderr, /the change list differs/);
  assert.match(refused.stderr, /XFER_RESUME_MISMATCH/);

  const cursor = await rgwLogCursor(world.s3.env.stateDir);
  const resumed = await upload(src, key, ['--changed-blocks', list, '--resume']);
  const r = resumed.result;
  assert.equal(r.incremental.changeList, true, resumed.stderr);
  assert.equal(await world.s3.objectSha256(key), await sha256File(src), 'the object equals the new source byte for byte');
  assert.equal(r.partsSkipped, kill.confirmed.length, 'every part confirmed before the kill was kept');
  const log = (await rgwUploadRequests(world.s3.env.stateDir, r.uploadId, cursor)).filter((e) => e.status === 200);
  const sent = log.filter((e) => e.operation === 'UploadPart').map((e) => Number(e.query.get('partNumber')));
  const copied = log.filter((e) => e.operation === 'UploadPartCopy').map((e) => Number(e.query.get('partNumber')));
  for (const n of kill.confirmed) assert.ok(!sent.includes(n) && !copied.includes(n), `part ${n} was not redone`);
  const left = [...touched].filter((n) => !kill.confirmed.includes(n));
  assert.deepEqual(sent.sort((a, b) => a - b), left.sort((a, b) => a - b), 'the resume sent only the changed parts the kill left unconfirmed');
  assert.equal(copied.length, r.parts - kill.confirmed.length - left.length, 'every other part was copied by RGW');
  await assert.rejects(access(cp), 'the checkpoint is gone once the object is tagged');

  const digest = await linearDigestByDocScript(src);
  const tags = await world.s3.sink().getTags(key);
  assert.equal(tags['vmxfer-digest'], digest, 'the object digest tag, built from the manifest and the parts read');
  assert.equal(tags['vmxfer-source-digest'], digest);
  assert.equal(r.outputDigest, digest);
  const verify = await vmxfer(['verify', world.s3.url(key), '--json', '--source', src, ...world.s3.cliFlags()], { env: world.s3.cliEnv });
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal(jsonResult(verify).digestVerified, digest);
  assert.equal(jsonResult(verify).sourceVerified, digest);
  const back = join(world.work.dir, 'kill-back.raw');
  const got = await vmxfer(['download', world.s3.url(key), back, ...world.s3.cliFlags()], { env: world.s3.cliEnv });
  assert.equal(got.code, 0, got.stderr);
  await run('cmp', [back, src]);
  ctx.diagnostic(`killed with parts ${kill.confirmed.join(',')} confirmed; the resume sent parts ${sent.join(',')} of the changed ${[...touched].join(',')}, ${copied.length} copied`);

  // The manifest it wrote carries the block digests the next pass builds its tags from.
  const next = await upload(src, key, ['--changed-blocks', await emptyList(size)]);
  assert.equal(next.result.outputDigest, digest);
  await removeObject(key);
});
