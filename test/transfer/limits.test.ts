import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import { emptyExtent } from '../../agent/disk/extent.js';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { GiB, MiB, TiB } from '../../agent/core/units.js';
import { writerByTarget } from '../../agent/formats/registry.js';
import { rawReader } from '../../agent/formats/raw/raw-reader.js';
import { OSS_LIMITS } from '../../agent/sinks/oss/oss-sink.js';
import { S3_LIMITS } from '../../agent/sinks/store-limits.js';
import { TokenBucket } from '../../agent/sinks/token-bucket.js';
import { choosePartSize, MAX_PART_SIZE } from '../../agent/transfer/part-sizing.js';
import { checkpointId, isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { cancelUpload } from '../../agent/transfer/cancel-upload.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { fileStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';
import { runAndKill } from '../helpers/killable-cli.js';

/** (e) Part sizing for huge sources, --bwlimit, cancel, and `vmxfer gc`. */
let work: { dir: string; cleanup: () => Promise<void> };
let file: TestStore;
let s3: Awaited<ReturnType<typeof s3Store>>;

before(async () => {
  work = await tempDir('vmxfer-limits-');
  file = await fileStore(work.dir);
  s3 = await s3Store('limits');
});
after(async () => {
  await s3?.close();
  await work?.cleanup();
});

function assertFits(maxOutput: number, limits: typeof S3_LIMITS, size: number): void {
  assert.ok(size >= limits.minPartSize && size <= limits.maxPartSize, `part size ${size} within ${limits.minPartSize}..${limits.maxPartSize}`);
  assert.ok(Math.ceil(maxOutput / size) <= limits.maxParts, `${Math.ceil(maxOutput / size)} parts <= ${limits.maxParts}`);
}

test('choosePartSize: a declared 19 TiB output fits OSS in <= 10,000 parts of <= 2047 MiB (vmxfer\'s ceiling); 40 TiB is XFER_TOO_LARGE on OSS and S3 refuses both (over 5 TiB)', () => {
  const size = choosePartSize(19 * TiB, OSS_LIMITS);
  assertFits(19 * TiB, OSS_LIMITS, size);
  assert.equal(size, Math.ceil(19 * TiB / 10_000 / MiB) * MiB, 'the smallest whole-MiB size that fits');
  assert.ok(size <= MAX_PART_SIZE);
  assert.throws(() => choosePartSize(40 * TiB, OSS_LIMITS), (e) => isVmxferError(e) && e.code === 'XFER_TOO_LARGE' && /parts of at most 2047 MiB/.test(e.message));
  assert.throws(() => choosePartSize(19 * TiB, S3_LIMITS), (e) => isVmxferError(e) && e.code === 'XFER_TOO_LARGE');
  assert.throws(() => choosePartSize(40 * TiB, S3_LIMITS), (e) => isVmxferError(e) && e.code === 'XFER_TOO_LARGE');
  assert.throws(() => choosePartSize(GiB, S3_LIMITS, 5 * GiB), (e) => isVmxferError(e) && e.code === 'XFER_PART_SIZE' && /vmxfer's limit of 2047 MiB/.test(e.message));
  assert.equal(choosePartSize(GiB, S3_LIMITS, MAX_PART_SIZE), MAX_PART_SIZE, 'the top of the range is accepted');
  for (const out of [0, 1, 5 * MiB, 160 * GiB, 5 * TiB]) assertFits(Math.max(out, 1), S3_LIMITS, choosePartSize(out, S3_LIMITS));
  assert.throws(() => choosePartSize(5 * TiB, S3_LIMITS, 16 * MiB), (e) => isVmxferError(e) && e.code === 'XFER_PART_SIZE' && /at least/.test(e.message));
  assert.throws(() => choosePartSize(GiB, S3_LIMITS, 4 * MiB), (e) => isVmxferError(e) && e.code === 'XFER_PART_SIZE');
  assert.equal(choosePartSize(GiB, OSS_LIMITS, 200 * 1024), 200 * 1024, 'OSS allows parts from 100 KB');
  assert.throws(() => choosePartSize(GiB, OSS_LIMITS, 100 * 1024), (e) => isVmxferError(e) && e.code === 'XFER_PART_SIZE', '100 KiB x 10,000 < 1 GiB');
});

/** A disk that only declares its size (all unallocated), for when the filesystem cannot hold a 40 TiB sparse file. */
function declaredDisk(virtualSize: number): DiskSource {
  return {
    virtualSize,
    info: { format: 'raw', virtualSize, files: ['declared'], warnings: [] },
    async *extents() {
      yield emptyExtent('unallocated', 0, virtualSize);
    },
    close: async () => undefined,
  };
}

test('a 40 TiB source (sparse raw file, or a declared disk where ext4 stops at 16 TiB): real writers declare their largest output; it needs parts over 2047 MiB, so both stores refuse it up front', async () => {
  const path = join(work.dir, 'huge.raw');
  const fh = await open(path, 'w');
  const sparse = await fh.truncate(40 * TiB).then(() => true, () => false);
  await fh.close();
  const disk = sparse ? await rawReader.open(path, {}) : declaredDisk(40 * TiB);
  try {
    for (const target of ['raw', 'qcow2']) {
      const max = writerByTarget(target)!.maxOutputSize(disk);
      assert.ok(max >= 40 * TiB && max < 41 * TiB, `${target} declares ${max} for 40 TiB`);
      assert.throws(() => choosePartSize(max, OSS_LIMITS), (e) => isVmxferError(e) && e.code === 'XFER_TOO_LARGE');
      assert.throws(() => choosePartSize(max, S3_LIMITS), (e) => isVmxferError(e) && e.code === 'XFER_TOO_LARGE');
    }
  } finally {
    await disk.close();
  }
});

test('--bwlimit holds the rate: 12 MiB at 4 MiB/s takes about 2 s (one second of burst)', async () => {
  const src = join(work.dir, 'bw.raw');
  await writeFile(src, randomBytes(12 * MiB));
  const t0 = performance.now();
  await uploadImage({
    source: src, destination: file.url('bw.raw'), key: 'bw.raw', sink: file.sink(), as: 'original', partSize: 5 * MiB, concurrency: 3, resume: false,
    checkpoints: new FileCheckpointStore<UploadCheckpoint>(join(work.dir, 'cp'), isUploadCheckpoint),
    bandwidth: new TokenBucket(4 * MiB),
  });
  const s = (performance.now() - t0) / 1000;
  assert.ok(s >= 1.9, `12 MiB at 4 MiB/s with a 4 MiB burst needs >= 2 s, took ${s.toFixed(2)} s`);
  assert.ok(s < 6, `and not much more, took ${s.toFixed(2)} s`);
});

test('cancelUpload aborts the multipart upload at RGW and deletes the checkpoint; listUploads is empty', async () => {
  const src = join(work.dir, 'cancel.raw');
  await writeFile(src, randomBytes(4 * 5 * MiB));
  const key = 'cancel/x.raw';
  const url = s3.url(key);
  const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(work.dir, 'cp-cancel'), isUploadCheckpoint);
  const sink = s3.sink();
  const ctl = new AbortController();
  const run = uploadImage({
    source: src, destination: url, key, sink, as: 'original', partSize: 5 * MiB, concurrency: 1, resume: false, checkpoints,
    signal: ctl.signal, onPart: (e) => e.state === 'sent' && ctl.abort(),
  });
  await assert.rejects(run, (e) => isVmxferError(e) && e.code === 'VMX_ABORTED');
  assert.equal((await sink.listUploads('cancel/')).length, 1, 'the interrupted upload is pending');
  const c = await cancelUpload({ source: src, destination: url, key, sink, checkpoints });
  assert.equal(c.abortedAtStore, true);
  assert.deepEqual(await sink.listUploads('cancel/'), []);
  assert.equal(await checkpoints.load(checkpointId(src, url)), undefined);
});

test('vmxfer gc: --dry-run aborts nothing; stale uploads are aborted; one a checkpoint references is kept unless --force', async () => {
  const src = join(work.dir, 'gc.raw');
  await writeFile(src, randomBytes(6 * 5 * MiB));
  const sink = s3.sink();
  const orphan = await sink.createUpload('gc/orphan.raw', {});
  const state = join(work.dir, 'gc-state');
  const key = 'gc/live.raw';
  const cpFile = join(state, 'checkpoints', `${checkpointId(src, s3.url(key))}.json`);
  const args = ['upload', src, s3.url(key), '--part-size', '5MiB', '--bwlimit', '8MiB', '--state-dir', state, ...s3.cliFlags()];
  assert.ok(!(await runAndKill(args, s3.cliEnv, cpFile, 1)).finished);
  const gc = (extra: string[]) => vmxfer(['gc', s3.url('gc/'), '--older-than', '0s', '--state-dir', state, ...s3.cliFlags(), ...extra], { env: s3.cliEnv });
  const dry = await gc(['--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`would abort: gc/orphan.raw upload ${orphan.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(dry.stdout, /kept \(a local checkpoint references it; --force to abort\): gc\/live.raw/);
  assert.equal((await sink.listUploads('gc/')).length, 2);
  const young = await vmxfer(['gc', s3.url('gc/'), '--older-than', '1h', '--state-dir', state, ...s3.cliFlags()], { env: s3.cliEnv });
  assert.match(young.stdout, /0 aborted.*2 kept/);
  const real = await gc([]);
  assert.match(real.stdout, /aborted: gc\/orphan.raw/);
  assert.deepEqual((await sink.listUploads('gc/')).map((u) => u.key), ['gc/live.raw']);
  const forced = await gc(['--force']);
  assert.match(forced.stdout, /aborted: gc\/live.raw/);
  assert.deepEqual(await sink.listUploads('gc/'), []);
  const resume = await vmxfer([...args, '--resume'], { env: s3.cliEnv });
  assert.match(resume.stderr, /XFER_NO_CHECKPOINT/, 'the forced abort deleted the checkpoint too');
});
