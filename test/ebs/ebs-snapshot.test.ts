import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { tempDir } from '../helpers/tmp.js';
import { cachedQemuImage } from '../helpers/qemu-images.js';
import { QEMU_MISSING, qemuCompare, qemuFromRaw, qemuToRaw } from '../helpers/qemu.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isEbsCheckpoint, type EbsCheckpoint } from '../../agent/ebs/snapshot-checkpoint.js';
import { uploadToEbs, type EbsUploadRequest } from '../../agent/ebs/ebs-upload.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';
import { BlockSet } from '../../agent/ebs/block-set.js';
import { changeDisk, EBS_DISK, nonZeroBlocks } from './ebs-disks.js';

let fake: Ec2QueryFake;
let dir: string;
let cleanup: () => Promise<void>;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };

before(async () => {
  fake = await Ec2QueryFake.start();
  ({ dir, cleanup } = await tempDir('vmxfer-ebs-'));
});
after(async () => {
  await fake.close();
  await cleanup();
});

function request(source: string, destination: string, over: Partial<EbsUploadRequest> = {}): EbsUploadRequest {
  return {
    source,
    destination,
    connection: { endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: { attempts: 6, baseDelayMs: 1, maxDelayMs: 4 } },
    concurrency: 8,
    resume: false,
    snapshot: { description: 'vmxfer test', tags: { migration: 'web01' } },
    checkpoints: new FileCheckpointStore<EbsCheckpoint>(join(dir, 'checkpoints'), isEbsCheckpoint),
    poll: POLL,
    signal: new AbortController().signal,
    ...over,
  };
}

function confirmedOf(cp: EbsCheckpoint): BlockSet {
  return BlockSet.fromBase64((cp.volumeSizeGiB * 1024 ** 3) / BLOCK, cp.confirmed)!;
}

/** The fake's volume of the snapshot, cut to the source's size, compared with qemu-img's raw rendering. */
async function assertVolumeEquals(snapshotId: string, oracleRaw: string, size: number): Promise<void> {
  const vol = join(dir, `${snapshotId}.raw`);
  await fake.ebs.writeVolume(snapshotId, vol, size);
  await qemuCompare(vol, oracleRaw);
  const s = fake.ebs.snapshots.get(snapshotId)!;
  const beyond = [...s.own.keys()].filter((i) => i * BLOCK >= size);
  assert.deepEqual(beyond, [], 'no block written past the end of the source');
}

test('qcow2 source -> full EBS snapshot, then a VMDK of the changed disk -> incremental snapshot with the parent, through the EBS direct APIs protocol fake: each reconstructed volume equals qemu-img convert -O raw of its source', { skip: QEMU_MISSING, timeout: 600_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const oracle = await qemuToRaw(qcow2, dir);
  const blocks = await nonZeroBlocks(oracle);
  const expectWritten = blocks.filter(Boolean).length;

  const full = await uploadToEbs(request(qcow2, 'ebs://eu-west-1'));
  assert.match(full.snapshotId, /^snap-[0-9a-f]{17}$/);
  assert.equal(full.volumeSizeGiB, 1);
  assert.equal(full.blocks, 2048);
  assert.equal(full.blocksWritten, expectWritten, 'every non-zero block, and only those');
  assert.equal(full.zeroBlocksSkipped, 2048 - expectWritten);
  assert.equal(full.zeroBlocksWritten, 0);
  const puts = fake.ebs.callsOf('PutSnapshotBlock').filter((c) => c.snapshotId === full.snapshotId);
  assert.equal(puts.length, full.blocksSent);
  assert.equal(full.blocksSent, expectWritten);
  const snap = fake.ebs.snapshots.get(full.snapshotId)!;
  assert.equal(snap.status, 'completed', 'CompleteSnapshot count and LINEAR checksum accepted');
  assert.deepEqual(snap.tags, [{ Key: 'migration', Value: 'web01' }]);
  await assertVolumeEquals(full.snapshotId, oracle, EBS_DISK.size);
  console.log(`# full: ${full.blocksSent} blocks sent, ${full.zeroBlocksSkipped} zero blocks skipped, ${fake.ebs.calls.length} EBS requests, ${full.seconds.toFixed(2)} s`);

  const change = await changeDisk(dir, oracle, blocks);
  const vmdk = await qemuFromRaw(change.path, join(dir, 'changed.vmdk'), 'vmdk', ['-o', 'subformat=monolithicSparse']);
  const after = await nonZeroBlocks(change.path);
  const before = fake.ebs.calls.length;
  const inc = await uploadToEbs(request(vmdk, `ebs://eu-west-1/${full.snapshotId}`));
  assert.equal(inc.parentSnapshotId, full.snapshotId);
  assert.equal(fake.ebs.snapshots.get(inc.snapshotId)!.parentId, full.snapshotId);
  const zeroOverParent = after.filter((nz, i) => !nz && blocks[i]).length;
  assert.equal(zeroOverParent, change.zeroed.length);
  assert.equal(inc.zeroBlocksWritten, zeroOverParent, 'a block zero now but data in the parent is written as zeros');
  assert.equal(inc.blocksWritten, after.filter(Boolean).length + zeroOverParent);
  assert.equal(fake.ebs.snapshots.get(inc.snapshotId)!.status, 'completed');
  assert.equal(fake.ebs.callsOf('ListSnapshotBlocks').length >= 1, true, 'the parent was listed');
  await assertVolumeEquals(inc.snapshotId, change.path, EBS_DISK.size);
  await assertVolumeEquals(full.snapshotId, oracle, EBS_DISK.size);
  console.log(`# incremental: ${inc.blocksSent} blocks sent (${inc.zeroBlocksWritten} zero blocks over parent data), ${inc.zeroBlocksSkipped} skipped, ${fake.ebs.calls.length - before} EBS requests`);
});

test('RequestThrottledException and InternalServerException from the EBS direct APIs protocol fake are retried with backoff and the snapshot completes', { skip: QEMU_MISSING, timeout: 300_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const oracle = await qemuToRaw(qcow2, dir);
  fake.ebs.throttle.set('StartSnapshot', 1);
  fake.ebs.throttle.set('PutSnapshotBlock', 4);
  fake.ebs.internalErrors.set('PutSnapshotBlock', 2);
  fake.ebs.throttle.set('CompleteSnapshot', 1);
  const retried: string[] = [];
  const r = await uploadToEbs(request(qcow2, 'ebs://eu-west-1', { onRetry: (code) => void retried.push(code) }));
  assert.equal(retried.filter((c) => c === 'RequestThrottledException').length, 6);
  assert.equal(retried.filter((c) => c === 'InternalServerException').length, 2);
  assert.equal(fake.ebs.snapshots.get(r.snapshotId)!.status, 'completed');
  await assertVolumeEquals(r.snapshotId, oracle, EBS_DISK.size);
});

test('a block whose bytes do not match its checksum (corrupted on the way) is refused by the EBS direct APIs protocol fake with ValidationException: EBS_CHECKSUM_REJECTED naming the block, not retried', { skip: QEMU_MISSING, timeout: 300_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  fake.ebs.corruptNext = 1;
  const err = await uploadToEbs(request(qcow2, 'ebs://eu-central-1', { concurrency: 1 })).then(() => undefined, (e: unknown) => e);
  assert.ok(isVmxferError(err), String(err));
  assert.equal(err.code, 'EBS_CHECKSUM_REJECTED');
  assert.match(err.message, /block \d+ \(offset \d+\)/);
});

test('a resume whose pending snapshot expired in the EBS direct APIs protocol fake is reported and starts a new snapshot that completes', { skip: QEMU_MISSING, timeout: 300_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const oracle = await qemuToRaw(qcow2, dir);
  const stop = new AbortController();
  const base = fake.ebs.callsOf('PutSnapshotBlock').length;
  const store = new FileCheckpointStore<EbsCheckpoint>(join(dir, 'checkpoints'), isEbsCheckpoint, () => {
    if (fake.ebs.callsOf('PutSnapshotBlock').length > base + 10) stop.abort(new Error('interrupted by the test'));
  });
  const err = await uploadToEbs(request(qcow2, 'ebs://eu-west-1', { checkpoints: store, signal: stop.signal })).then(() => undefined, (e: unknown) => e);
  assert.ok(err, 'the first run was interrupted');
  const cp = (await store.list()).find((c) => c.source.path === qcow2 && c.destination === 'ebs://eu-west-1')!;
  assert.ok(cp.snapshotId && confirmedOf(cp).size > 0, 'the interrupted run had confirmed blocks');
  fake.ebs.expire(cp.snapshotId!);
  const notes: string[] = [];
  const r = await uploadToEbs(request(qcow2, 'ebs://eu-west-1', { resume: true, onNote: (s) => void notes.push(s) }));
  assert.equal(r.replacedSnapshotId, cp.snapshotId);
  assert.notEqual(r.snapshotId, cp.snapshotId);
  assert.ok(notes.some((n) => n.includes(cp.snapshotId!) && /error state/.test(n)), notes.join('\n'));
  assert.equal(r.blocksResumed, 0, 'nothing of the expired snapshot counts');
  await assertVolumeEquals(r.snapshotId, oracle, EBS_DISK.size);
});

test('an upload interrupted (Ctrl-C) while checkpoint saves lag behind: every block the EBS direct APIs protocol fake acknowledged is in the checkpoint when the upload rejects, but for the requests aborted in flight', { skip: QEMU_MISSING, timeout: 300_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const inner = new FileCheckpointStore<EbsCheckpoint>(join(dir, 'checkpoints'), isEbsCheckpoint);
  // Saves that take 150 ms each: without a last save on the way out, the file would lag by many blocks.
  const slow = { load: inner.load.bind(inner), delete: inner.delete.bind(inner), list: inner.list.bind(inner), save: async (cp: EbsCheckpoint) => { await sleep(150); await inner.save(cp); } };
  const stop = new AbortController();
  const base = fake.ebs.calls.length;
  const acked = () => fake.ebs.calls.slice(base).filter((c) => c.action === 'PutSnapshotBlock' && c.status === 201);
  const timer = setInterval(() => acked().length >= 20 && stop.abort(new Error('Ctrl-C')), 1);
  const err = await uploadToEbs(request(qcow2, 'ebs://ap-south-1', { checkpoints: slow, signal: stop.signal, concurrency: 4 })).then(() => undefined, (e: unknown) => e);
  clearInterval(timer);
  assert.ok(err, 'interrupted');
  const cp = (await inner.list()).find((c) => c.destination === 'ebs://ap-south-1')!;
  const confirmed = confirmedOf(cp);
  const missing = acked().filter((c) => c.snapshotId === cp.snapshotId && !confirmed.has(c.blockIndex!));
  assert.ok(missing.length <= 4, `${missing.length} acknowledged blocks missing from the checkpoint (at most the 4 in flight may be)`);
  await inner.delete(cp.id);
});
