import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createContentDigest } from '../../agent/hashing/content-digest.js';
import { Sha256Thread } from '../../agent/hashing/sha256-thread.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { buildRealisticDisk, EMPTY_DISK, SMALL_DISK, SPARSE_DISK } from '../helpers/realistic-disk.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

const KiB = 1024;

/** Content with zero runs that start and end inside blocks, span several blocks, and a short tail block. */
function mixedContent(): { bytes: Buffer; pieces: Array<{ zeros: number } | { data: Buffer }> } {
  const pieces: Array<{ zeros: number } | { data: Buffer }> = [
    { data: randomBytes(300 * KiB) },
    { zeros: 3 * 512 * KiB + 77 },
    { data: randomBytes(1) },
    { data: Buffer.alloc(512 * KiB) }, // zeros arriving as data
    { data: randomBytes(2 * 512 * KiB + 5) },
    { zeros: 1000 },
    { data: randomBytes(513) },
  ];
  const bytes = Buffer.concat(pieces.map((p) => ('zeros' in p ? Buffer.alloc(p.zeros) : p.data)));
  return { bytes, pieces };
}

test('sha256-linear-512k: zero runs as lengths, data in any split, on the hashing thread or not, equal the docs/integrity.md script', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { bytes, pieces } = mixedContent();
    const path = join(dir, 'mixed.bin');
    await writeFile(path, bytes);
    const want = await linearDigestByDocScript(path);
    assert.match(want, /^sha256-linear-512k:[0-9a-f]{64}$/);

    const fed = createContentDigest('sha256-linear-512k');
    for (const p of pieces) {
      if ('zeros' in p) fed.zeros(p.zeros);
      else fed.update(p.data);
    }
    assert.equal(fed.digest(), want, 'zero runs fed as lengths');

    const split = createContentDigest('sha256-linear-512k');
    for (let at = 0; at < bytes.length; at += 12_345) split.update(bytes.subarray(at, at + 12_345));
    assert.equal(split.digest(), want, 'the same bytes in pieces that straddle blocks');

    const thread = new Sha256Thread(64 * KiB, 2, 'sha256-linear-512k');
    for (const p of pieces) {
      if ('zeros' in p) thread.zeros(p.zeros);
      else await thread.update(p.data);
    }
    assert.equal(`sha256-linear-512k:${await thread.digest()}`, want, 'the hashing thread');

    const full = createContentDigest('sha256');
    for (const p of pieces) {
      if ('zeros' in p) full.zeros(p.zeros);
      else full.update(p.data);
    }
    assert.equal(full.digest(), `sha256:${await sha256File(path)}`, '--sha256 is sha256sum');
  } finally {
    await cleanup();
  }
});

for (const spec of [SMALL_DISK, SPARSE_DISK, EMPTY_DISK]) {
  test(`convert ${spec.name} realistic disk: source and output digests equal the docs/integrity.md script; --sha256 gives sha256sum`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const src = await buildRealisticDisk(spec);
      const vmdk = join(dir, 'out.vmdk');
      const r = await vmxfer(['convert', src, vmdk, '--to', 'vmdk', '--format', 'raw', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.equal(result.sourceDigest, await linearDigestByDocScript(src));
      assert.equal(result.outputDigest, await linearDigestByDocScript(vmdk));
      assert.equal(result.sourceSha256, undefined, 'no full SHA-256 without --sha256');
      if (spec !== SPARSE_DISK) {
        const raw = join(dir, 'out.raw');
        const s = await vmxfer(['convert', src, raw, '--to', 'raw', '--format', 'raw', '--json', '--sha256']);
        assert.equal(s.code, 0, s.stderr);
        const full = JSON.parse(s.stdout.trim().split('\n').pop()!);
        const sha = await sha256File(src);
        assert.equal(full.sourceSha256, sha);
        assert.equal(full.outputSha256, sha);
        assert.equal(full.sourceDigest, `sha256:${sha}`);
      }
    } finally {
      await cleanup();
    }
  });
}
