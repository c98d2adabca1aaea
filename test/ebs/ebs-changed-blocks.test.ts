import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isEbsCheckpoint, type EbsCheckpoint } from '../../agent/ebs/snapshot-checkpoint.js';
import { uploadToEbs, type EbsUploadRequest } from '../../agent/ebs/ebs-upload.js';
import { isVmxferError } from '../../agent/core/errors.js';
import type { ChangedExtentList } from '../../agent/incremental/changed-blocks/extent-list.js';
import { join } from 'node:path';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { cachedQemuImage } from '../helpers/qemu-images.js';
import { QEMU_MISSING, qemuCompare, qemuFromRaw, qemuToRaw } from '../helpers/qemu.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';
import { changeDisk, EBS_DISK, nonZeroBlocks } from './ebs-disks.js';
import { EXIT_CODES } from '../../agent/core/errors.js';

/**
 * `vmxfer upload SRC ebs://REGION/snap-PARENT --changed-blocks FILE` against the EBS direct APIs
 * protocol fake: only the blocks the list touches are read and written (the fake's own request log
 * counts the PutSnapshotBlock calls), and the child snapshot's volume, parents resolved, equals the source.
 */
let fake: Ec2QueryFake;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  fake = await Ec2QueryFake.start();
  ({ dir, cleanup } = await tempDir('vmxfer-ebs-cbt-'));
});
after(async () => {
  await fake.close();
  await cleanup();
});

function env(): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: 'AKIDFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake-secret', AWS_EC2_METADATA_DISABLED: 'true', VMXFER_CLOUD_POLL_SECONDS: '0.01', VMXFER_STATE_DIR: join(dir, 'state') };
}

async function upload(args: string[]): Promise<Record<string, any>> {
  const r = await vmxfer(['upload', ...args, '--endpoint', fake.url, '--json'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  return jsonResult(r);
}

test('ebs://REGION/snap-PARENT --changed-blocks: a full snapshot, then an incremental one that reads and writes only the listed blocks (PutSnapshotBlock counted in the EBS direct APIs protocol fake log); the child volume equals the changed disk', { skip: QEMU_MISSING, timeout: 600_000 }, async (ctx) => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const raw = await qemuToRaw(qcow2, dir);
  const blocks = await nonZeroBlocks(raw);
  const full = await upload([raw, 'ebs://eu-west-1']);
  const change = await changeDisk(dir, raw, blocks);
  // Whole blocks zeroed and filled, 100 bytes edited at 4 KiB into others: the list names exactly those ranges.
  const extents = [
    ...change.zeroed.map((i) => ({ offset: i * BLOCK, length: BLOCK })),
    ...change.filled.map((i) => ({ offset: i * BLOCK, length: BLOCK })),
    ...change.edited.map((i) => ({ offset: i * BLOCK + 4096, length: 100 })),
  ];
  const list = join(dir, 'changed.json');
  await writeFile(list, JSON.stringify({ version: 1, virtualSize: EBS_DISK.size, extents }));
  const listed = new Set([...change.zeroed, ...change.filled, ...change.edited]);

  const inc = await upload([change.path, `ebs://eu-west-1/${full.snapshotId}`, '--changed-blocks', list]);
  assert.equal(inc.parentSnapshotId, full.snapshotId);
  const puts = fake.ebs.callsOf('PutSnapshotBlock').filter((c) => c.snapshotId === inc.snapshotId);
  assert.deepEqual(puts.map((c) => c.blockIndex).sort((a, b) => a! - b!), [...listed].sort((a, b) => a - b), 'exactly the listed blocks were written');
  assert.equal(inc.blocksRead, listed.size, 'only the listed blocks were read');
  assert.equal(inc.blocksWritten, listed.size);
  assert.equal(inc.zeroBlocksWritten, change.zeroed.length, 'a listed block now zero over parent data is written as zeros');
  assert.equal(fake.ebs.snapshots.get(inc.snapshotId)!.status, 'completed', 'CompleteSnapshot count and LINEAR checksum accepted');
  const vol = join(dir, 'child.raw');
  await fake.ebs.writeVolume(inc.snapshotId, vol, EBS_DISK.size);
  await qemuCompare(vol, change.path);
  ctx.diagnostic(`full: ${full.blocksSent} blocks sent; incremental with the list: ${puts.length} PutSnapshotBlock (${inc.zeroBlocksWritten} of zeros) of ${inc.blocks} blocks, ${inc.blocksRead} read`);
});

test('ebs:// --changed-blocks refusals before any EBS call: no parent snapshot (EBS_CHANGED_NO_PARENT), a list of another size (INCR_CHANGED_MISMATCH), a VMDK source (INCR_LAYOUT)', async () => {
  const src = join(dir, 'small.raw');
  await writeFile(src, Buffer.alloc(4 * BLOCK, 7));
  const list = join(dir, 'small.json');
  await writeFile(list, JSON.stringify({ version: 1, virtualSize: 4 * BLOCK, extents: [{ offset: 0, length: 1 }] }));
  const other = join(dir, 'other.json');
  await writeFile(other, JSON.stringify({ version: 1, virtualSize: 8 * BLOCK, extents: [] }));
  const vmdk = join(dir, 'small.vmdk');
  if (!QEMU_MISSING) await qemuFromRaw(src, vmdk, 'vmdk');
  const before = fake.ebs.calls.length;
  const cases: Array<[string[], number, RegExp]> = [
    [[src, 'ebs://eu-west-1', '--changed-blocks', list], EXIT_CODES.usage, /EBS_CHANGED_NO_PARENT/],
    [[src, 'ebs://eu-west-1/snap-0123456789abcdef0', '--changed-blocks', other], EXIT_CODES['invalid-input'], /INCR_CHANGED_MISMATCH/],
    ...(QEMU_MISSING ? [] : [[[vmdk, 'ebs://eu-west-1/snap-0123456789abcdef0', '--changed-blocks', list], EXIT_CODES.unsupported, /INCR_LAYOUT/] as [string[], number, RegExp]]),
  ];
  for (const [args, code, expected] of cases) {
    const r = await vmxfer(['upload', ...args, '--endpoint', fake.url], { env: env() });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  assert.equal(fake.ebs.calls.length, before, 'no EBS request was made');
});

function request(source: string, destination: string, over: Partial<EbsUploadRequest> = {}): EbsUploadRequest {
  return {
    source,
    destination,
    connection: { endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 4 } },
    concurrency: 1,
    resume: false,
    snapshot: {},
    checkpoints: new FileCheckpointStore<EbsCheckpoint>(join(dir, 'lib-checkpoints'), isEbsCheckpoint),
    poll: { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 },
    signal: new AbortController().signal,
    ...over,
  };
}

test('an incremental EBS pass with a change list, interrupted: the checkpoint records the list, so another list cannot resume it (XFER_RESUME_MISMATCH); the same list finishes the same snapshot without re-sending confirmed blocks (EBS direct APIs protocol fake)', async () => {
  const src = join(dir, 'lib.raw');
  await writeFile(src, randomBytes(16 * BLOCK));
  const full = await uploadToEbs(request(src, 'ebs://eu-west-1'));
  const changed = [1, 5, 9, 12];
  const fh = await open(src, 'r+');
  for (const i of changed) await fh.write(randomBytes(BLOCK), 0, BLOCK, i * BLOCK);
  await fh.close();
  const list: ChangedExtentList = { version: 1, virtualSize: 16 * BLOCK, extents: changed.map((i) => ({ offset: i * BLOCK, length: BLOCK })) };
  const url = `ebs://eu-west-1/${full.snapshotId}`;
  const stop = new AbortController();
  const base = fake.ebs.callsOf('PutSnapshotBlock').length;
  const checkpoints = new FileCheckpointStore<EbsCheckpoint>(join(dir, 'lib-checkpoints'), isEbsCheckpoint, () => {
    if (fake.ebs.callsOf('PutSnapshotBlock').length >= base + 2) stop.abort(new Error('interrupted by the test'));
  });
  fake.ebs.putDelayMs = 20;
  const err = await uploadToEbs(request(src, url, { changed: list, checkpoints, signal: stop.signal })).then(() => undefined, (e: unknown) => e);
  fake.ebs.putDelayMs = 0;
  assert.ok(err, 'the first run was interrupted');
  const cp = (await checkpoints.list()).find((c) => c.destination === url)!;
  assert.ok(cp.changeList && cp.snapshotId, 'the checkpoint names the list and the snapshot');
  const other = { ...list, extents: list.extents.slice(1) };
  const refused = await uploadToEbs(request(src, url, { changed: other, resume: true })).then(() => undefined, (e: unknown) => e);
  assert.ok(isVmxferError(refused) && refused.code === 'XFER_RESUME_MISMATCH', String(refused));
  const mark = fake.ebs.calls.length;
  const r = await uploadToEbs(request(src, url, { changed: list, resume: true }));
  assert.equal(r.snapshotId, cp.snapshotId, 'the interrupted snapshot is finished');
  assert.ok(r.blocksResumed >= 1, `${r.blocksResumed} blocks confirmed before the interruption`);
  assert.equal(r.blocksResumed + r.blocksSent, changed.length);
  const resent = fake.ebs.calls.slice(mark).filter((c) => c.action === 'PutSnapshotBlock' && c.status < 300 && c.snapshotId === r.snapshotId);
  assert.equal(resent.length, r.blocksSent, 'only the blocks not confirmed were sent again');
  assert.equal(r.blocksRead, changed.length);
  const vol = join(dir, 'lib-child.raw');
  await fake.ebs.writeVolume(r.snapshotId, vol, 16 * BLOCK);
  assert.ok((await readFile(vol)).equals(await readFile(src)), 'the child volume equals the changed disk');
});
