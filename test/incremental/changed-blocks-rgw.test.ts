import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GiB, MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { sha256File } from '../helpers/hash.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { incrementalRgw } from '../helpers/incremental-rgw.js';
import { rgwUploadRequests } from '../helpers/rgw-request-log.js';
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
