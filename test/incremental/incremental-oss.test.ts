import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GiB, MiB } from '../../agent/core/units.js';
import { sha256File } from '../helpers/hash.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';
import { changeBlocks, touchedParts, writeSparseDisk } from '../helpers/changed-disk.js';

/**
 * upload --incremental through the OSS protocol server: the server's request log shows which parts
 * arrived as UploadPart with a body and which as UploadPartCopy, and the bytes each carried.
 */
const BUCKET = 'vmxfer-incremental';
const PART = 8 * MiB;
const BLOCK = 1 * MiB;
let work: { dir: string; cleanup: () => Promise<void> };
let fake: OssProtocolFake;

before(async () => {
  work = await tempDir('vmxfer-incr-oss-');
  // The object, the parts of its replacement and the replacement itself are held at once.
  fake = await startOssProtocolFake({ buckets: [BUCKET], capacityBytes: 3 * GiB + 64 * MiB });
});
after(async () => {
  await fake?.close();
  await work?.cleanup();
});

const env = { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET };

async function upload(src: string, key: string) {
  const r = await vmxfer(['upload', src, `oss://${BUCKET}/${key}`, '--incremental', '--as', 'raw', '--part-size', '8MiB', '--state-dir', join(work.dir, 'state'), '--json', '--endpoint', fake.endpoint, '--path-style'], { env });
  assert.equal(r.code, 0, r.stderr);
  return jsonResult(r);
}

test('OSS protocol server: 1 GiB sparse raw disk, 1% of its blocks changed: only touched parts carry bodies, the rest are UploadPartCopy; the object equals the new source', async (ctx) => {
  const src = join(work.dir, 'disk-1g.raw');
  const key = `incr/disk-${randomBytes(3).toString('hex')}.raw`;
  await writeSparseDisk(src, GiB, 96, BLOCK);
  await upload(src, key);
  const changed = await changeBlocks(src, GiB, GiB / BLOCK / 100, BLOCK);
  const touched = touchedParts(changed, BLOCK, PART);
  const cursor = fake.requests.length;
  const r = await upload(src, key);
  const log = fake.requests.slice(cursor).filter((q) => q.status === 200 && q.url.includes(`/${key}?`));
  const partOf = (url: string) => Number(new URL(url, 'http://x').searchParams.get('partNumber'));
  const sent = log.filter((q) => q.operation === 'UploadPart');
  const copied = log.filter((q) => q.operation === 'UploadPartCopy');
  const bytesIn = sent.reduce((n, q) => n + (q.bytesIn ?? 0), 0) + copied.reduce((n, q) => n + (q.bytesIn ?? 0), 0);
  assert.deepEqual(sent.map((q) => partOf(q.url)).sort((a, b) => a - b), [...touched].sort((a, b) => a - b));
  assert.equal(copied.length, r.parts - touched.size);
  assert.ok(bytesIn <= touched.size * PART, `${bytesIn} bytes of part bodies reached the server, at most the changed parts`);
  assert.equal(r.bytesSent, bytesIn);
  const obj = fake.store.bucket(BUCKET).objects.get(key)!;
  assert.equal(createHash('sha256').update(obj.body).digest('hex'), await sha256File(src), 'the object equals the new source byte for byte');
  ctx.diagnostic(`${changed.length} blocks changed in ${touched.size} of ${r.parts} parts: ${bytesIn} body bytes at the server, ${copied.length} UploadPartCopy`);
  fake.store.deleteObject(fake.store.bucket(BUCKET), key);
});
