import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GiB, MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { sha256File } from '../helpers/hash.js';
import { vmxfer } from '../helpers/run-command.js';
import { runAndKill } from '../helpers/killable-cli.js';
import { incrementalRgw } from '../helpers/incremental-rgw.js';
import { rgwLogCursor, rgwUploadRequests, type RgwLogEntry } from '../helpers/rgw-request-log.js';
import { changeBlocks, touchedParts, writeSparseDisk } from '../helpers/changed-disk.js';

/**
 * upload --incremental against a real Ceph RGW: only changed parts cross the wire, the rest are
 * UploadPartCopy requests, as RGW's own access log records them (not vmxfer's counters).
 */
const PART = 8 * MiB;
const BLOCK = 1 * MiB;
const { world, args, upload } = incrementalRgw('vmxfer-incr-rgw-', 'incremental');

function summarize(log: RgwLogEntry[]) {
  const ok = log.filter((e) => e.status === 200);
  const sent = ok.filter((e) => e.operation === 'UploadPart');
  const copied = ok.filter((e) => e.operation === 'UploadPartCopy');
  return {
    sentParts: new Set(sent.map((e) => Number(e.query.get('partNumber')))),
    copiedParts: new Set(copied.map((e) => Number(e.query.get('partNumber')))),
    bytesIn: sent.reduce((n, e) => n + e.bytes, 0),
  };
}

async function removeObject(key: string): Promise<void> {
  const sink = world.s3.sink();
  await sink.deleteObject(key);
  await sink.deleteObject(`${key}.vmxfer-manifest`);
}

test('RGW: 1 GiB sparse raw disk, 1% of its 1 MiB blocks changed in scattered places: --incremental sends only the touched parts, RGW copies the rest; the object equals the new source', async (ctx) => {
  const src = join(world.work.dir, 'disk-1g.raw');
  const key = `incr/disk-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, GiB, 96, BLOCK);
  const first = await upload(src, key);
  assert.equal(first.result.incremental.base, 'none');
  assert.equal(first.result.partsCopied, 0);
  assert.equal(first.result.parts, GiB / PART);
  const changed = await changeBlocks(src, GiB, GiB / BLOCK / 100, BLOCK);
  const touched = touchedParts(changed, BLOCK, PART);
  const second = await upload(src, key);
  const r = second.result;
  assert.equal(r.incremental.base, 'manifest');
  assert.equal(await world.s3.objectSha256(key), await sha256File(src), 'the object equals the new source byte for byte');
  const seen = summarize(await rgwUploadRequests(world.s3.env.stateDir, r.uploadId));
  assert.deepEqual([...seen.sentParts].sort((a, b) => a - b), [...touched].sort((a, b) => a - b), 'RGW received exactly the parts the changed blocks fall in');
  assert.equal(seen.copiedParts.size, r.parts - touched.size, 'RGW copied every other part itself');
  assert.ok(seen.bytesIn <= touched.size * PART, `RGW logged ${seen.bytesIn} bytes of part bodies, at most the ${touched.size} changed parts`);
  assert.equal(r.bytesSent, seen.bytesIn, 'the result reports the bytes RGW received');
  assert.deepEqual([r.partsSent, r.partsCopied], [touched.size, r.parts - touched.size]);
  ctx.diagnostic(`${changed.length} blocks of 1 MiB changed in ${touched.size} of ${r.parts} parts: ${seen.bytesIn} bytes sent (RGW log), ${seen.copiedParts.size} parts copied server-side`);
  await removeObject(key);
});

test('RGW: an object edited behind its manifest (replaced by a plain upload) is uploaded in full with a warning, never stitched', async () => {
  const src = join(world.work.dir, 'disk-edit.raw');
  const key = `incr/edited-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, 48 * MiB, 8, BLOCK);
  await upload(src, key);
  const other = join(world.work.dir, 'other.raw');
  await writeSparseDisk(other, 48 * MiB, 20, BLOCK);
  const plain = await vmxfer(['upload', other, world.s3.url(key), '--part-size', '8MiB', '--state-dir', join(world.work.dir, 'state'), ...world.s3.cliFlags()], { env: world.s3.cliEnv });
  assert.equal(plain.code, 0, plain.stderr);
  await changeBlocks(src, 48 * MiB, 1, BLOCK);
  const again = await upload(src, key);
  assert.equal(again.result.incremental.base, 'stale-manifest');
  assert.match(again.stderr, /warning: the manifest .* does not match the object/);
  assert.equal(again.result.partsCopied, 0);
  const seen = summarize(await rgwUploadRequests(world.s3.env.stateDir, again.result.uploadId));
  assert.equal(seen.copiedParts.size, 0, 'RGW copied nothing');
  assert.equal(await world.s3.objectSha256(key), await sha256File(src));
  // The manifest now describes the new object: the next pass is incremental again.
  const third = await upload(src, key);
  assert.equal(third.result.incremental.base, 'manifest');
  assert.equal(third.result.partsSent, 0);
  await removeObject(key);
});

test('RGW: kill -9 in the middle of an incremental pass, then --incremental --resume: confirmed parts are not redone, the object equals the new source', async () => {
  const src = join(world.work.dir, 'disk-kill.raw');
  const key = `incr/kill-${randomBytes(3).toString('hex')}.raw`;
  const size = 96 * MiB;
  await writeSparseDisk(src, size, 16, BLOCK);
  await upload(src, key);
  // Block 0 (part 1) changes, so the first part is sent slowly under --bwlimit while the kill comes.
  const changed = [...(await changeBlocks(src, size, 3, BLOCK))];
  const { open } = await import('node:fs/promises');
  const fh = await open(src, 'r+');
  await fh.write(randomBytes(BLOCK), 0, BLOCK, 0);
  await fh.close();
  changed.push(0);
  const cp = join(world.work.dir, 'state', 'checkpoints', `${checkpointId(src, world.s3.url(key))}.json`);
  const slow = ['--concurrency', '1', '--bwlimit', '6MiB'];
  const kill = await runAndKill(args(src, key, slow), world.s3.cliEnv, cp, 2);
  assert.ok(!kill.finished, 'killed before the pass finished');
  const cursor = await rgwLogCursor(world.s3.env.stateDir);
  const resumed = await upload(src, key, ['--resume']);
  const r = resumed.result;
  assert.equal(await world.s3.objectSha256(key), await sha256File(src), 'the object equals the new source');
  assert.equal(r.partsSkipped, kill.confirmed.length, 'every part confirmed before the kill was kept');
  const seen = summarize(await rgwUploadRequests(world.s3.env.stateDir, r.uploadId, cursor));
  for (const n of kill.confirmed) assert.ok(!seen.sentParts.has(n) && !seen.copiedParts.has(n), `part ${n} was not redone`);
  const touched = touchedParts(changed, BLOCK, PART);
  assert.ok(r.partsCopied >= r.parts - touched.size - kill.confirmed.length, 'unchanged parts are still copied after a resume');
  await removeObject(key);
});

test('--incremental refuses outputs whose layout moves with the content, naming the formats that qualify', async () => {
  const src = join(world.work.dir, 'small.raw');
  await writeSparseDisk(src, 4 * MiB, 2, BLOCK);
  const r = await vmxfer(['upload', src, world.s3.url('incr/refused.qcow2'), '--incremental', '--as', 'qcow2', '--state-dir', join(world.work.dir, 'state'), ...world.s3.cliFlags()], { env: world.s3.cliEnv });
  assert.equal(r.code, EXIT_CODES.unsupported, r.stderr);
  assert.match(r.stderr, /INCR_LAYOUT/);
  assert.match(r.stderr, /raw, vhd-fixed, or original of a raw\/flat file/);
  assert.equal(await world.s3.sink().head('incr/refused.qcow2'), undefined, 'nothing was created');
});
