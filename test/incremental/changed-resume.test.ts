import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MiB } from '../../agent/core/units.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { FileSink } from '../../agent/sinks/file/file-sink.js';
import type { ObjectSink } from '../../agent/sinks/object-sink.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { checkpointId, isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadIncremental } from '../../agent/incremental/incremental-upload.js';
import { manifestKey } from '../../agent/incremental/manifest.js';
import type { ChangedExtentList } from '../../agent/incremental/changed-blocks/extent-list.js';
import { tempDir } from '../helpers/tmp.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { writeSparseDisk } from '../helpers/changed-disk.js';

/**
 * A change-list pass interrupted (a part fails for good) on the file store: its checkpoint, what may
 * continue it and what may not, the digest tags of the finished object, and the fallbacks.
 */
const PART = 5 * MiB;
const SIZE = 6 * PART;

async function setup() {
  const { dir, cleanup } = await tempDir('vmxfer-cbt-resume-');
  const bucket = join(dir, 'bucket');
  await mkdir(bucket);
  const sink = new FileSink(bucket);
  const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(dir, 'cp'), isUploadCheckpoint);
  const src = join(dir, 'disk.raw');
  await writeSparseDisk(src, SIZE, 6, MiB);
  const warnings: string[] = [];
  const notes: string[] = [];
  const key = 'disk.raw';
  const run = (over: { sink?: ObjectSink; resume?: boolean | 'if-compatible' | 'restart'; digest?: 'sha256'; concurrency?: number } = {}, list?: ChangedExtentList) =>
    uploadIncremental(
      { source: src, destination: `file://${bucket}/${key}`, key, sink: over.sink ?? sink, as: 'raw', partSize: PART, concurrency: over.concurrency ?? 2, resume: over.resume ?? false, digest: over.digest, checkpoints, onNote: (s) => notes.push(s) },
      (w) => warnings.push(w),
      list,
    );
  const cpFile = join(dir, 'cp', `${checkpointId(src, `file://${bucket}/${key}`)}.json`);
  return { dir, bucket, sink, src, key, run, warnings, notes, cpFile, checkpoints, cleanup };
}

/** The file sink, but every UploadPart of part `n` fails (a connection that stays down). */
function failingPart(sink: FileSink, n: number): ObjectSink {
  const s = Object.create(sink) as FileSink;
  s.uploadPart = (key, id, pn, body, signal, pacer) => (pn === n ? Promise.reject(new Error(`part ${n}: connection reset`)) : sink.uploadPart(key, id, pn, body, signal, pacer));
  return s;
}

async function change(src: string, offsets: number[]): Promise<ChangedExtentList> {
  const fh = await open(src, 'r+');
  for (const o of offsets) await fh.write(randomBytes(MiB), 0, MiB, o);
  await fh.close();
  return { version: 1, virtualSize: SIZE, extents: offsets.map((offset) => ({ offset, length: MiB })) };
}

test('file store: a change-list pass that fails mid-way keeps a checkpoint; another list cannot resume it, the same list does (confirmed parts kept), and the object carries the digest tags of the source', async () => {
  const t = await setup();
  try {
    await t.run();
    const list = await change(t.src, [0, 3 * PART + MiB]);
    const err = await t.run({ sink: failingPart(t.sink, 4), concurrency: 1 }, list).then(() => undefined, (e: unknown) => e);
    assert.match(String(err), /part 4: connection reset/);
    // Nothing of the failed pass goes on behind the rejection (parts 5 and 6 are not started): the checkpoint stays as it was.
    await sleep(300);
    const cp = JSON.parse(await readFile(t.cpFile, 'utf8')) as UploadCheckpoint;
    assert.equal(cp.options.mode, 'changed-blocks');
    const confirmed = cp.parts.map((p) => p.partNumber).sort();
    assert.deepEqual(confirmed, [1, 2, 3], 'one part at a time: the parts before the failed one are confirmed, none after it');

    const other: ChangedExtentList = { ...list, extents: [{ offset: 0, length: MiB }] };
    const refused = await t.run({ resume: true }, other).then(() => undefined, (e: unknown) => e);
    assert.ok(isVmxferError(refused) && refused.code === 'XFER_RESUME_MISMATCH', String(refused));
    assert.match(String(refused), /the change list differs/);

    const done = await t.run({ resume: true }, list);
    assert.equal(done.incremental.changeList, true);
    assert.equal(done.partsSkipped, confirmed.length, 'the parts confirmed before the failure were kept');
    assert.equal(done.partsSent + done.partsCopied + done.partsSkipped, SIZE / PART);
    assert.equal(await sha256File(join(t.bucket, t.key)), await sha256File(t.src));
    const digest = await linearDigestByDocScript(t.src);
    assert.deepEqual(await t.sink.getTags(t.key), { 'vmxfer-digest': digest, 'vmxfer-source-digest': digest });
    await assert.rejects(readFile(t.cpFile), 'the checkpoint is deleted once the object is tagged');
  } finally {
    await t.cleanup();
  }
});

test('file store: the daemon\'s if-compatible replaces a change-list checkpoint of another list; a whole-source pass replaces one too; without --resume it is refused', async () => {
  const t = await setup();
  try {
    await t.run();
    const list = await change(t.src, [PART, 4 * PART]);
    await assert.rejects(t.run({ sink: failingPart(t.sink, 5), concurrency: 1 }, list), /part 5: connection reset/);
    const refused = await t.run({}, list).then(() => undefined, (e: unknown) => e);
    assert.ok(isVmxferError(refused) && refused.code === 'XFER_CHECKPOINT_EXISTS', String(refused));
    const other: ChangedExtentList = { ...list, extents: [...list.extents, { offset: 0, length: 1 }] };
    const replaced = await t.run({ resume: 'if-compatible' }, other);
    assert.equal(replaced.partsSkipped, 0, 'nothing of the other list\'s pass was kept');
    assert.match(t.notes.join('\n'), /does not fit this job and is replaced \(.*the change list differs/);
    assert.equal(await sha256File(join(t.bucket, t.key)), await sha256File(t.src));

    const more = await change(t.src, [2 * PART]);
    await assert.rejects(t.run({ sink: failingPart(t.sink, 3), concurrency: 1 }, more), /part 3: connection reset/);
    const whole = await t.run({ resume: true });
    assert.equal(whole.incremental.changeList, false);
    assert.match(t.notes.join('\n'), /the interrupted pass read a change list, this one reads the whole source/);
    assert.equal(await sha256File(join(t.bucket, t.key)), await sha256File(t.src));
  } finally {
    await t.cleanup();
  }
});

test('file store: with --sha256 the change list is not used (a full-content SHA-256 needs every byte) and a version-1 manifest means a full pass, both said in a warning', async () => {
  const t = await setup();
  try {
    await t.run({ digest: 'sha256' });
    const list = await change(t.src, [0]);
    const r = await t.run({ digest: 'sha256' }, list);
    assert.equal(r.incremental.changeList, false);
    assert.match(t.warnings.join('\n'), /--sha256 tags need a SHA-256 of every byte/);
    assert.equal(r.outputSha256, (await sha256File(t.src)));
    const m = JSON.parse(await readFile(join(t.bucket, manifestKey(t.key)), 'utf8')) as Record<string, unknown>;
    await writeFile(join(t.bucket, manifestKey(t.key)), JSON.stringify({ ...m, version: 1 }));
    const old = await t.run({}, list);
    assert.equal(old.incremental.base, 'stale-manifest');
    assert.match(t.warnings.join('\n'), /written by an older vmxfer/);
    assert.equal(await sha256File(join(t.bucket, t.key)), await sha256File(t.src));
  } finally {
    await t.cleanup();
  }
});
