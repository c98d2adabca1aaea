import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { fileStore, ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/**
 * Issue #19 points 5 and 6: `vmxfer verify URL [--source FILE]` reads an object back and checks the
 * store's checksum and the digest tag; one corrupted byte of the stored object is caught by `verify`
 * and by `download` for each checksum kind: the file store's multipart ETag, the OSS protocol fake's
 * CRC-64, and on Ceph RGW (where a rewrite gives the object a fresh, matching ETag) the
 * sha256-linear-512k digest tag, or the full SHA-256 tag of an upload made with --sha256.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let s3: Awaited<ReturnType<typeof s3Store>>;
let oss: Awaited<ReturnType<typeof ossStore>>;
let file: TestStore;

before(async () => {
  work = await tempDir('vmxfer-verify-');
  source = join(work.dir, 'source.raw');
  // Data, 6 MiB of zeros (whole zero blocks of the digest), data: a corruption inside the zeros must be caught too.
  await writeFile(source, Buffer.concat([randomBytes(5 * MiB), Buffer.alloc(6 * MiB), randomBytes(4 * MiB + 512)]));
  s3 = await s3Store('verify');
  oss = await ossStore('vmxfer-verify');
  file = await fileStore(work.dir);
});
after(async () => {
  await s3?.close();
  await oss?.close();
  await work?.cleanup();
});

const OFFSET = 7 * MiB + 3; // inside the zero run

function flags(store: TestStore): string[] {
  return ['--state-dir', join(work.dir, 'state'), ...store.cliFlags()];
}

async function upload(store: TestStore, key: string, extra: string[] = []): Promise<void> {
  const up = await vmxfer(['upload', source, store.url(key), '--part-size', '5MiB', '--json', ...flags(store), ...extra], { env: store.cliEnv });
  assert.equal(up.code, 0, up.stderr);
}

/** Flips one byte of the stored object behind vmxfer's back, the way each store allows. */
async function corrupt(store: TestStore, key: string): Promise<void> {
  if (store === file) {
    // Bit rot: the bytes change, the mtime does not (the file store takes a file with a new mtime for one written by someone else).
    const path = join(work.dir, 'bucket', key);
    const stamp = join(work.dir, 'stamp');
    await run('touch', ['-r', path, stamp]);
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from([0x5a]), 0, 1, OFFSET);
    await fh.close();
    await run('touch', ['-r', stamp, path]);
  } else if (store === oss) {
    oss.fake.store.bucket('vmxfer-verify').objects.get(key)!.body[OFFSET] ^= 0xff;
  } else {
    // RGW keeps objects in its OSD: rewrite it with one byte changed, its metadata and its tags kept.
    const b = s3.bucket;
    const got = await b.client.send(new GetObjectCommand({ Bucket: b.name, Key: key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    body[OFFSET] ^= 0xff;
    const head = await b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: key }));
    const tags = await s3.sink().getTags(key);
    const tagging = new URLSearchParams(tags).toString();
    await b.client.send(new PutObjectCommand({ Bucket: b.name, Key: key, Body: body, Metadata: head.Metadata, Tagging: tagging }));
  }
}

async function assertCaught(store: TestStore, key: string, rule: RegExp): Promise<void> {
  const v = await vmxfer(['verify', store.url(key), ...flags(store)], { env: store.cliEnv });
  assert.equal(v.code, EXIT_CODES.integrity, `verify: ${v.stderr}`);
  assert.match(v.stderr, rule);
  const d = await vmxfer(['download', store.url(key), join(work.dir, `${key}.back`), ...flags(store)], { env: store.cliEnv });
  assert.equal(d.code, EXIT_CODES.integrity, `download: ${d.stderr}`);
  assert.match(d.stderr, rule);
}

describe('verify and download catch one corrupted byte', () => {
  const cases: Array<[string, () => TestStore, string[], RegExp, string]> = [
    ['file store: multipart ETag', () => file, [], /XFER_VERIFY_FAILED/, 'etag'],
    ['OSS protocol fake: CRC-64', () => oss, [], /XFER_VERIFY_FAILED/, 'crc64'],
    ['Ceph RGW: sha256-linear-512k digest tag', () => s3, [], /vmxfer-digest tag .* \[XFER_SHA256_MISMATCH\]/, 'etag'],
    ['Ceph RGW: --sha256 full SHA-256 tag', () => s3, ['--sha256'], /vmxfer-sha256 tag .* \[XFER_SHA256_MISMATCH\]/, 'etag'],
  ];
  for (const [name, storeOf, extra, rule, kind] of cases) {
    test(name, async () => {
      const store = storeOf();
      const key = `verify-${name.replace(/[^a-z0-9]+/gi, '-')}.raw`;
      await upload(store, key, extra);
      const ok = await vmxfer(['verify', store.url(key), '--json', '--source', source, ...flags(store)], { env: store.cliEnv });
      assert.equal(ok.code, 0, ok.stderr);
      const r = jsonResult(ok);
      assert.equal(r.verified, kind, 'the store checksum vouched');
      assert.match(r.digestVerified, extra.includes('--sha256') ? /^sha256:/ : /^sha256-linear-512k:/);
      assert.equal(r.sourceVerified, r.digestVerified, 'a raw passthrough: object and source content are the same bytes');
      await corrupt(store, key);
      await assertCaught(store, key, rule);
    });
  }

  test('verify --source refuses a different local image', async () => {
    const key = 'verify-other-source.raw';
    await upload(file, key);
    const other = join(work.dir, 'other.raw');
    const bytes = await readFile(source);
    bytes[OFFSET] ^= 1;
    await writeFile(other, bytes);
    const v = await vmxfer(['verify', file.url(key), '--source', other, ...flags(file)]);
    assert.equal(v.code, EXIT_CODES.integrity, v.stderr);
    assert.match(v.stderr, /the content of .*other\.raw has digest sha256-linear-512k:[0-9a-f]{64}, but the object's source tag says sha256-linear-512k:[0-9a-f]{64} \[XFER_SHA256_MISMATCH\]/);
  });
});
