import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { sha256File } from '../helpers/hash.js';
import { qemuImg } from '../helpers/qemu.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { jsonResult, runAndKill } from '../helpers/killable-cli.js';
import { fileStore, ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/**
 * (b) kill -9 of the real `vmxfer upload` at random points (after N parts are confirmed in its
 * checkpoint), then --resume: the object equals the source by SHA-256, and no part confirmed at
 * the moment of a kill is sent again (UploadPart requests counted at the server: RGW through a
 * pass-through proxy, the OSS protocol fake through its request log). Changed source or options
 * refuse to resume; --cancel aborts the upload and leaves nothing in listUploads.
 */
const PARTS = 8;
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let s3: Awaited<ReturnType<typeof s3Store>>;
let oss: Awaited<ReturnType<typeof ossStore>>;
let file: TestStore;
let proxy: FaultProxy;

before(async () => {
  work = await tempDir('vmxfer-resume-');
  source = join(work.dir, 'source.raw');
  await writeFile(source, randomBytes(PARTS * 5 * MiB - 3 * 512));
  s3 = await s3Store('resume');
  oss = await ossStore('vmxfer-resume');
  file = await fileStore(work.dir);
  proxy = await startFaultProxy(s3.env.endpoint);
});
after(async () => {
  await proxy?.close();
  await s3?.close();
  await oss?.close();
  await work?.cleanup();
});

function uploadArgs(store: TestStore, key: string, extra: string[] = [], src = source): string[] {
  const endpoint = store === s3 ? proxy.endpoint : undefined;
  return ['upload', src, store.url(key), '--part-size', '5MiB', '--concurrency', '2', '--bwlimit', '12MiB', '--state-dir', join(work.dir, 'state'), ...store.cliFlags(endpoint), ...extra];
}

function checkpointFile(key: string, store: TestStore, src = source): string {
  return join(work.dir, 'state', 'checkpoints', `${checkpointId(src, store.url(key))}.json`);
}

/** How many requests the server has logged so far (a cursor into its log). */
function serverLogLength(store: TestStore): number {
  return store === s3 ? proxy.log.length : oss.fake.requests.length;
}

/** Successful UploadPart requests per part number, as the server saw them (from log position `from`). */
function serverPartPuts(store: TestStore, key: string, from = 0): Map<number, number> {
  if (store === s3) {
    const m = new Map<number, number>();
    for (const e of proxy.log.slice(from)) {
      if (e.method === 'PUT' && e.partNumber !== undefined && e.status === 200 && e.url.startsWith(`/${s3.bucket.name}/${key}?`)) m.set(e.partNumber, (m.get(e.partNumber) ?? 0) + 1);
    }
    return m;
  }
  const m = new Map<number, number>();
  for (const r of oss.fake.requests.slice(from)) {
    if (r.operation !== 'UploadPart' || r.status !== 200 || !r.url.includes(`/${key}?`)) continue;
    const n = Number(new URL(r.url, 'http://x').searchParams.get('partNumber'));
    m.set(n, (m.get(n) ?? 0) + 1);
  }
  return m;
}

for (const name of ['s3', 'oss'] as const) {
  test(`${name}: kill -9 at two random points, --resume twice; object = source by SHA-256; confirmed parts never sent again`, async () => {
    const store = name === 's3' ? s3 : oss;
    const key = `resume/kill-${randomBytes(3).toString('hex')}.raw`;
    const cp = checkpointFile(key, store);
    const first = randomInt(1, 4);
    const second = randomInt(first + 1, PARTS - 1);
    const kill1 = await runAndKill(uploadArgs(store, key), store.cliEnv, cp, first);
    assert.ok(!kill1.finished && kill1.confirmed.length >= first, `killed after ${kill1.confirmed.length} parts`);
    const cursor1 = serverLogLength(store);
    const kill2 = await runAndKill(uploadArgs(store, key, ['--resume']), store.cliEnv, cp, second);
    assert.ok(!kill2.finished, 'the resumed upload was killed again');
    const cursor2 = serverLogLength(store);
    const done = await vmxfer([...uploadArgs(store, key, ['--resume']), '--json'], { env: store.cliEnv });
    assert.equal(done.code, 0, done.stderr);
    const result = jsonResult(done);
    assert.equal(result.parts, PARTS);
    assert.equal(result.partsSkipped, kill2.confirmed.length, 'every part confirmed at the second kill was skipped');
    assert.equal(await store.objectSha256(key), await sha256File(source), 'the object equals the source');
    const all = serverPartPuts(store, key);
    for (let n = 1; n <= PARTS; n++) assert.ok((all.get(n) ?? 0) >= 1, `part ${n} reached the server`);
    // A part confirmed in the checkpoint at a kill is never sent after that kill; only parts that
    // were in flight (sent, not yet checkpointed) may go twice.
    for (const [cursor, confirmed] of [[cursor1, kill1.confirmed], [cursor2, kill2.confirmed]] as const) {
      const after = serverPartPuts(store, key, cursor);
      for (const n of confirmed) assert.equal(after.get(n) ?? 0, 0, `part ${n} was confirmed before the kill and was sent again`);
    }
    const resent = [...all.values()].filter((c) => c > 1).length;
    assert.ok(resent <= 2 * 2, `at most the parts in flight at the two kills (2 each) were sent twice, got ${resent}`);
    assert.ok(!existsSync(cp), 'the checkpoint is deleted once the upload is verified');
    await store.sink().deleteObject(key);
  });
}

test('file: kill -9 during a VHD conversion upload; the resumed parts regenerate byte-identically (same footer stamp)', async () => {
  const disk = await buildRealisticDisk(SMALL_DISK);
  await mkdir(join(work.dir, 'bucket', 'resume'), { recursive: true });
  const key = 'resume/disk.vhd';
  const cp = checkpointFile(key, file, disk);
  const args = (extra: string[]) => uploadArgs(file, key, ['--as', 'vhd', ...extra], disk);
  const kill = await runAndKill(args(['--bwlimit', '40MiB']), {}, cp, 3);
  assert.ok(!kill.finished);
  const done = await vmxfer([...args(['--resume']), '--json']);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(jsonResult(done).partsSkipped, kill.confirmed.length, 'every confirmed part regenerated with the same MD5');
  await qemuImg(['compare', '-q', '-f', 'vpc', '-F', 'raw', join(work.dir, 'bucket', key), disk]);
});

describe('refusals and cancel', () => {
  test('a changed option (--part-size) and a touched source refuse to resume with XFER_RESUME_MISMATCH; --cancel aborts the S3 upload', async () => {
    const src = join(work.dir, 'mutable.raw');
    await writeFile(src, randomBytes(6 * 5 * MiB));
    const key = 'resume/refuse.raw';
    const cp = checkpointFile(key, s3, src);
    const kill = await runAndKill(uploadArgs(s3, key, [], src), s3.cliEnv, cp, 1);
    assert.ok(!kill.finished);
    const otherSize = await vmxfer([...uploadArgs(s3, key, ['--resume'], src).filter((a) => a !== '5MiB' && a !== '--part-size'), '--part-size', '6MiB'], { env: s3.cliEnv });
    assert.equal(otherSize.code, EXIT_CODES.integrity, otherSize.stderr);
    assert.match(otherSize.stderr, /option partSize was 5242880 .* now 6291456 .*XFER_RESUME_MISMATCH/);
    const later = new Date(Date.now() + 5000);
    await utimes(src, later, later);
    const touched = await vmxfer(uploadArgs(s3, key, ['--resume'], src), { env: s3.cliEnv });
    assert.equal(touched.code, EXIT_CODES.integrity, touched.stderr);
    assert.match(touched.stderr, /source changed since the upload started.*XFER_RESUME_MISMATCH/);
    const sink = s3.sink();
    assert.equal((await sink.listUploads('resume/refuse')).length, 1, 'the interrupted upload is pending');
    const cancel = await vmxfer([...uploadArgs(s3, key, ['--cancel'], src)], { env: s3.cliEnv });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /aborted; checkpoint deleted/);
    assert.deepEqual(await sink.listUploads('resume/refuse'), [], 'no upload is left at the store');
    assert.ok(!existsSync(cp), 'the checkpoint is gone');
    const none = await vmxfer(uploadArgs(s3, key, ['--resume'], src), { env: s3.cliEnv });
    assert.equal(none.code, EXIT_CODES.usage);
    assert.match(none.stderr, /XFER_NO_CHECKPOINT/);
  });
});
