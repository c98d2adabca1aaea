import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { jsonResult, runAndKill } from '../helpers/killable-cli.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { fileStore, ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/**
 * Object tags written after a verified upload (issue #5 point 1, issue #19 point 1): the user's
 * --tag values plus vmxfer-digest (the object's bytes) and vmxfer-source-digest (the source's
 * virtual content), both sha256-linear-512k by default, or vmxfer-sha256 / vmxfer-source-sha256 with
 * --sha256, on RGW, the OSS protocol fake and the file store, also after a resume; download checks
 * the bytes against whichever the object carries and fails with XFER_SHA256_MISMATCH.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let s3: Awaited<ReturnType<typeof s3Store>>;
let oss: Awaited<ReturnType<typeof ossStore>>;
let file: TestStore;

before(async () => {
  work = await tempDir('vmxfer-tags-');
  source = join(work.dir, 'source.raw');
  await writeFile(source, randomBytes(4 * 5 * MiB + 4096));
  s3 = await s3Store('tags');
  oss = await ossStore('vmxfer-tags');
  file = await fileStore(work.dir);
});
after(async () => {
  await s3?.close();
  await oss?.close();
  await work?.cleanup();
});

/** Keys at the bucket's top level: a file:// URL's directory is its bucket, as the test sink sees it. */
function uploadArgs(store: TestStore, key: string, extra: string[] = []): string[] {
  return ['upload', source, store.url(key), '--part-size', '5MiB', '--concurrency', '2', '--state-dir', join(work.dir, 'state'), ...store.cliFlags(), ...extra];
}

function downloadArgs(store: TestStore, key: string, dst: string, extra: string[] = []): string[] {
  return ['download', store.url(key), dst, '--state-dir', join(work.dir, 'state'), '--json', ...store.cliFlags(), ...extra];
}

const stores = () => [['file', file], ['s3', s3], ['oss', oss]] as const;

/** The object's sha256-linear-512k digest by the docs/integrity.md script, from its bytes read back. */
async function objectLinearDigest(store: TestStore, key: string): Promise<string> {
  const sink = store.sink();
  const size = (await sink.head(key))!.size;
  const copy = join(work.dir, `${key}.readback`);
  await writeFile(copy, await sink.getRange(key, 0, size));
  return linearDigestByDocScript(copy);
}

describe('digest tags after upload, checked by download', () => {
  for (const name of ['file', 's3', 'oss'] as const) {
    test(`${name}: --tag values plus vmxfer-digest (sha256-linear-512k of the object as read back) and vmxfer-source-digest; download verifies, a wrong tag fails it`, async () => {
      const store = stores().find(([n]) => n === name)![1];
      const key = `tags-${name}.raw`;
      const up = await vmxfer([...uploadArgs(store, key, ['--tag', 'team=infra', '--tag', 'ticket=OPS-1']), '--json'], { env: store.cliEnv });
      assert.equal(up.code, 0, up.stderr);
      const objectDigest = await objectLinearDigest(store, key);
      const sourceDigest = await linearDigestByDocScript(source);
      const want = { team: 'infra', ticket: 'OPS-1', 'vmxfer-digest': objectDigest, 'vmxfer-source-digest': sourceDigest };
      assert.deepEqual(jsonResult(up).tags, want);
      assert.equal(jsonResult(up).outputDigest, objectDigest);
      assert.equal(jsonResult(up).sourceSha256, undefined, 'no full SHA-256 without --sha256');
      const sink = store.sink();
      assert.deepEqual(await sink.getTags(key), want, 'the store holds the tags');
      const dst = join(work.dir, `${name}-back.raw`);
      const down = await vmxfer(downloadArgs(store, key, dst), { env: store.cliEnv });
      assert.equal(down.code, 0, down.stderr);
      assert.equal(jsonResult(down).digestVerified, objectDigest);
      const wrong = `sha256-linear-512k:${'f'.repeat(64)}`;
      await sink.putTags(key, { ...want, 'vmxfer-digest': wrong });
      const bad = join(work.dir, `${name}-bad.raw`);
      const refused = await vmxfer(downloadArgs(store, key, bad), { env: store.cliEnv });
      assert.equal(refused.code, EXIT_CODES.integrity, refused.stderr);
      assert.match(refused.stderr, new RegExp(`the downloaded bytes have digest ${objectDigest}, but the object's vmxfer-digest tag .* says ${wrong} \\[XFER_SHA256_MISMATCH\\]`));
      assert.ok(!existsSync(bad), 'nothing is left at the destination');
      await sink.deleteObject(key);
    });
  }

  test('file: --sha256 writes vmxfer-sha256 / vmxfer-source-sha256 (sha256sum); download checks that older tag', async () => {
    const key = 'tags-sha256.raw';
    const up = await vmxfer([...uploadArgs(file, key, ['--sha256']), '--json']);
    assert.equal(up.code, 0, up.stderr);
    const sha = await sha256File(source);
    assert.deepEqual(await file.sink().getTags(key), { 'vmxfer-sha256': sha, 'vmxfer-source-sha256': sha });
    assert.equal(jsonResult(up).sourceSha256, sha);
    assert.equal(jsonResult(up).outputDigest, `sha256:${sha}`);
    const down = await vmxfer(downloadArgs(file, key, join(work.dir, 'sha-back.raw')));
    assert.equal(down.code, 0, down.stderr);
    assert.equal(jsonResult(down).sha256Verified, sha);
    await file.sink().putTags(key, { 'vmxfer-sha256': 'f'.repeat(64) });
    const refused = await vmxfer(downloadArgs(file, key, join(work.dir, 'sha-bad.raw')));
    assert.equal(refused.code, EXIT_CODES.integrity, refused.stderr);
    assert.match(refused.stderr, new RegExp(`the downloaded bytes have digest sha256:${sha}, but the object's vmxfer-sha256 tag .* says sha256:f{64} \\[XFER_SHA256_MISMATCH\\]`));
  });

  test('file: --as vmdk tags the object and the source content; download --to raw (streamed) checks the object tag', async () => {
    const key = 'tags-conv.vmdk';
    const up = await vmxfer([...uploadArgs(file, key, ['--as', 'vmdk']), '--json']);
    assert.equal(up.code, 0, up.stderr);
    const tags = await file.sink().getTags(key);
    assert.equal(tags['vmxfer-digest'], await objectLinearDigest(file, key));
    assert.equal(tags['vmxfer-source-digest'], await linearDigestByDocScript(source), 'a raw source: its virtual content is its bytes');
    const raw = join(work.dir, 'conv-back.raw');
    const down = await vmxfer(downloadArgs(file, key, raw, ['--to', 'raw']));
    assert.equal(down.code, 0, down.stderr);
    assert.equal(jsonResult(down).conversion.mode, 'stream');
    assert.equal(jsonResult(down).digestVerified, tags['vmxfer-digest']);
    assert.equal(await sha256File(raw), await sha256File(source));
    await file.sink().putTags(key, { ...tags, 'vmxfer-digest': `sha256-linear-512k:${'0'.repeat(64)}` });
    const refused = await vmxfer(downloadArgs(file, key, join(work.dir, 'conv-bad.raw'), ['--to', 'raw']));
    assert.equal(refused.code, EXIT_CODES.integrity, refused.stderr);
    assert.match(refused.stderr, /XFER_SHA256_MISMATCH/);
    assert.ok(!existsSync(join(work.dir, 'conv-bad.raw')));
  });

  test('s3: after kill -9 and --resume the tags are the same as for a straight upload', async () => {
    const key = 'tags-resumed.raw';
    const cp = join(work.dir, 'state', 'checkpoints', `${checkpointId(source, s3.url(key))}.json`);
    const kill = await runAndKill(uploadArgs(s3, key, ['--tag', 'team=infra', '--bwlimit', '8MiB']), s3.cliEnv, cp, 1);
    assert.ok(!kill.finished, 'killed mid-upload');
    const done = await vmxfer([...uploadArgs(s3, key, ['--tag', 'team=infra', '--resume']), '--json'], { env: s3.cliEnv });
    assert.equal(done.code, 0, done.stderr);
    assert.ok(jsonResult(done).partsSkipped >= 1);
    assert.deepEqual(await s3.sink().getTags(key), { team: 'infra', 'vmxfer-digest': await objectLinearDigest(s3, key), 'vmxfer-source-digest': await linearDigestByDocScript(source) });
    await s3.sink().deleteObject(key);
  });
});

describe('tag limits', () => {
  test('9 --tag values (S3 and OSS allow 10, vmxfer needs 2) and a reserved vmxfer- key are refused before anything is sent', async () => {
    const nine = Array.from({ length: 9 }, (_, i) => ['--tag', `k${i}=v`]).flat();
    for (const store of [s3, oss] as TestStore[]) {
      const many = await vmxfer(uploadArgs(store, 'tags-too-many.raw', nine), { env: store.cliEnv });
      assert.equal(many.code, EXIT_CODES.usage, many.stderr);
      assert.match(many.stderr, /9 --tag values given; S3 and OSS allow 10 tags per object and vmxfer uses 2 \(vmxfer-digest, vmxfer-source-digest\), so at most 8 remain \[XFER_TAGS\]/);
      assert.deepEqual(await store.sink().listUploads('tags-too-many'), [], 'no multipart upload was created');
    }
    const eight = await vmxfer([...uploadArgs(file, 'tags-eight.raw', nine.slice(2)), '--json']);
    assert.equal(eight.code, 0, eight.stderr);
    assert.equal(Object.keys(await file.sink().getTags('tags-eight.raw')).length, 10);
    const reserved = await vmxfer(uploadArgs(file, 'tags-reserved.raw', ['--tag', 'vmxfer-sha256=mine']));
    assert.equal(reserved.code, EXIT_CODES.usage);
    assert.match(reserved.stderr, /tag key "vmxfer-sha256" is reserved/);
  });
});
