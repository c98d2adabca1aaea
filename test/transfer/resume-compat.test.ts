import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { MiB } from '../../agent/core/units.js';
import { checkpointId, isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { sha256File } from '../helpers/hash.js';
import { jsonResult, runAndKill } from '../helpers/killable-cli.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { ossStore } from '../helpers/transfer-stores.js';

/**
 * --part-size across its documented range (a part over vmxfer's 2047 MiB ceiling is refused before
 * anything exists at the store), and a checkpoint another job left behind: with resume
 * 'if-compatible' (the daemon's mode) it is replaced, its upload aborted, never failing the job;
 * a checkpoint of the same job is resumed.
 */
const BUCKET = 'vmxfer-resume-compat';
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let oss: Awaited<ReturnType<typeof ossStore>>;

before(async () => {
  work = await tempDir('vmxfer-resume-compat-');
  source = join(work.dir, 'disk.raw');
  await writeFile(source, randomBytes(6 * MiB + 512));
  oss = await ossStore(BUCKET);
});
after(async () => {
  await oss?.close();
  await work?.cleanup();
});

const stateDir = () => join(work.dir, 'state');
const checkpoints = () => new FileCheckpointStore<UploadCheckpoint>(join(stateDir(), 'checkpoints'), isUploadCheckpoint);
const cpFile = (key: string) => join(stateDir(), 'checkpoints', `${checkpointId(source, oss.url(key))}.json`);

function args(key: string, partSize: string, extra: string[] = []): string[] {
  return ['upload', source, oss.url(key), '--as', 'vhd', '--part-size', partSize, '--concurrency', '2', '--state-dir', stateDir(), ...oss.cliFlags(), ...extra];
}

test('--part-size over 2047 MiB (5 GiB, within the store\'s limit) is a usage error before any upload or checkpoint exists', async () => {
  const key = 'compat/huge.vhd';
  const r = await vmxfer(args(key, '5GiB'), { env: oss.cliEnv });
  assert.equal(r.code, EXIT_CODES.usage, r.stderr);
  assert.match(r.stderr, /part size 5\.00 GiB is outside vmxfer's limit of 2047 MiB.*XFER_PART_SIZE/);
  assert.ok(!existsSync(cpFile(key)), 'no checkpoint is written');
  assert.deepEqual(await oss.sink().listUploads('compat/huge'), [], 'no upload is created at the store');
});

test('--part-size 2047MiB, the top of the range, uploads (one part, buffers no larger than the output)', async () => {
  const key = 'compat/top.raw';
  const r = await vmxfer([...args(key, '2047MiB').filter((a) => a !== 'vhd' && a !== '--as'), '--json'], { env: oss.cliEnv });
  assert.equal(r.code, 0, r.stderr);
  const result = jsonResult(r);
  assert.equal(result.parts, 1);
  assert.equal(result.partSize, 2047 * MiB);
  assert.equal(await oss.objectSha256(key), await sha256File(source));
});

test("resume 'if-compatible': another job's checkpoint (other --part-size) is replaced and its upload aborted; the job completes", async () => {
  const key = `compat/other-${randomBytes(3).toString('hex')}.vhd`;
  const kill = await runAndKill(args(key, '1MiB', ['--bwlimit', '2MiB']), oss.cliEnv, cpFile(key), 2);
  assert.ok(!kill.finished);
  const stale = JSON.parse(await (await import('node:fs/promises')).readFile(cpFile(key), 'utf8')) as UploadCheckpoint;
  const notes: string[] = [];
  const r = await uploadImage({
    source,
    destination: oss.url(key),
    key,
    sink: oss.sink(),
    as: 'vhd',
    partSize: 2 * MiB,
    concurrency: 2,
    resume: 'if-compatible',
    onNote: (s) => notes.push(s),
    checkpoints: checkpoints(),
  });
  assert.equal(r.partsSkipped, 0);
  assert.equal(r.partSize, 2 * MiB);
  assert.notEqual(r.uploadId, stale.uploadId, 'a new upload was started');
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.match(notes[0]!, new RegExp(`does not fit this job and is replaced \\(.*option partSize was 1048576 .* now 2097152.*\\); its upload ${stale.uploadId} was aborted at the store`));
  assert.deepEqual((await oss.sink().listUploads(key)).map((u) => u.uploadId), [], 'the stale upload was aborted');
  assert.ok(!existsSync(cpFile(key)));
  const plain = await vmxfer(args(`${key}.whole`, '2MiB'), { env: oss.cliEnv });
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(await oss.objectSha256(key), await oss.objectSha256(`${key}.whole`));
});

test("resume 'if-compatible': the job's own checkpoint is resumed without re-sending confirmed parts", async () => {
  const key = `compat/same-${randomBytes(3).toString('hex')}.vhd`;
  const kill = await runAndKill(args(key, '1MiB', ['--bwlimit', '2MiB']), oss.cliEnv, cpFile(key), 2);
  assert.ok(!kill.finished);
  const notes: string[] = [];
  const r = await uploadImage({
    source,
    destination: oss.url(key),
    key,
    sink: oss.sink(),
    as: 'vhd',
    partSize: MiB,
    concurrency: 2,
    resume: 'if-compatible',
    onNote: (s) => notes.push(s),
    checkpoints: checkpoints(),
  });
  assert.deepEqual(notes, []);
  assert.equal(r.partsSkipped, kill.confirmed.length);
  assert.equal(r.partsSent + r.partsSkipped, r.parts);
});

test('a checkpoint from a vmxfer that did not record its encoder: --resume refuses with XFER_RESUME_ENCODER (never "source changed"); if-compatible replaces it', async () => {
  const key = `compat/legacy-${randomBytes(3).toString('hex')}.vhd`;
  const kill = await runAndKill(args(key, '1MiB', ['--bwlimit', '2MiB']), oss.cliEnv, cpFile(key), 1);
  assert.ok(!kill.finished);
  const { readFile } = await import('node:fs/promises');
  const cp = JSON.parse(await readFile(cpFile(key), 'utf8')) as UploadCheckpoint;
  // What the checkpoint of the previous release held: one string naming tool version and target.
  delete cp.options.writer;
  cp.options.encoder = 'vmxfer/0.1.0 vhd';
  await writeFile(cpFile(key), JSON.stringify(cp));
  const refused = await vmxfer(args(key, '1MiB', ['--resume']), { env: oss.cliEnv });
  assert.equal(refused.code, EXIT_CODES.unsupported, refused.stderr);
  assert.match(refused.stderr, /does not record its writer version, compressor and level .*"vmxfer\/0\.1\.0 vhd".*XFER_RESUME_ENCODER/);
  assert.doesNotMatch(refused.stderr, /source changed/);
  const notes: string[] = [];
  const r = await uploadImage({ source, destination: oss.url(key), key, sink: oss.sink(), as: 'vhd', partSize: MiB, concurrency: 2, resume: 'if-compatible', onNote: (s) => notes.push(s), checkpoints: checkpoints() });
  assert.equal(r.partsSkipped, 0);
  assert.match(notes.join('\n'), /XFER_RESUME_ENCODER.*was aborted at the store/);
});

test('started again without --resume over a checkpoint: refused (XFER_CHECKPOINT_EXISTS) naming --resume, --cancel and --restart; the upload is left resumable', async () => {
  const key = `compat/refused-${randomBytes(3).toString('hex')}.vhd`;
  const kill = await runAndKill(args(key, '1MiB', ['--bwlimit', '2MiB']), oss.cliEnv, cpFile(key), 2);
  assert.ok(!kill.finished);
  const { readFile } = await import('node:fs/promises');
  const before = await readFile(cpFile(key), 'utf8');
  const stale = JSON.parse(before) as UploadCheckpoint;
  const again = await vmxfer(args(key, '1MiB'), { env: oss.cliEnv });
  assert.equal(again.code, EXIT_CODES.usage, again.stderr);
  assert.match(again.stderr, new RegExp(`interrupted upload ${stale.uploadId} .*--resume.*--cancel.*--restart.*\\[XFER_CHECKPOINT_EXISTS\\]`));
  assert.equal(await readFile(cpFile(key), 'utf8'), before, 'the checkpoint is untouched');
  assert.deepEqual((await oss.sink().listUploads(key)).map((u) => u.uploadId), [stale.uploadId], 'the upload is still pending at the store');
  const resumed = await vmxfer([...args(key, '1MiB'), '--resume', '--json'], { env: oss.cliEnv });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(jsonResult(resumed).partsSkipped >= 2, 'the refused upload is still resumable');
});

test('--restart over a checkpoint: the earlier upload is aborted at the store (no staged parts left behind) and a new one completes', async () => {
  const key = `compat/fresh-${randomBytes(3).toString('hex')}.vhd`;
  const kill = await runAndKill(args(key, '1MiB', ['--bwlimit', '2MiB']), oss.cliEnv, cpFile(key), 2);
  assert.ok(!kill.finished);
  const { readFile } = await import('node:fs/promises');
  const stale = JSON.parse(await readFile(cpFile(key), 'utf8')) as UploadCheckpoint;
  const again = await vmxfer([...args(key, '1MiB'), '--restart'], { env: oss.cliEnv });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`started afresh \\(--restart\\); the earlier upload ${stale.uploadId} .* was aborted at the store`));
  assert.deepEqual(await oss.sink().listUploads(key), [], 'no upload of the key is pending');
});

test("resume 'if-compatible': a checkpoint whose upload is gone at the store (aborted, expired) is replaced; the job completes", async () => {
  const key = `compat/gone-${randomBytes(3).toString('hex')}.vhd`;
  const kill = await runAndKill(args(key, '1MiB', ['--bwlimit', '2MiB']), oss.cliEnv, cpFile(key), 2);
  assert.ok(!kill.finished);
  const { readFile } = await import('node:fs/promises');
  const stale = JSON.parse(await readFile(cpFile(key), 'utf8')) as UploadCheckpoint;
  await oss.sink().abortUpload(key, stale.uploadId);
  const notes: string[] = [];
  const r = await uploadImage({ source, destination: oss.url(key), key, sink: oss.sink(), as: 'vhd', partSize: MiB, concurrency: 2, resume: 'if-compatible', onNote: (s) => notes.push(s), checkpoints: checkpoints() });
  assert.equal(r.partsSkipped, 0);
  assert.match(notes.join('\n'), /NO_SUCH_UPLOAD/);
  assert.ok(!existsSync(cpFile(key)));
});
