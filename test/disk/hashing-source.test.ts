import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { HashingSource } from '../../agent/disk/hashing-source.js';
import { dataExtent, emptyExtent, type Extent } from '../../agent/disk/extent.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import { Sha256Thread } from '../../agent/hashing/sha256-thread.js';

const MiB = 1024 * 1024;

/** A disk of data and zero runs whose expected SHA-256 is computed independently with node:crypto. */
function fakeDisk(): { disk: DiskSource; sha256: string; linear: string } {
  const a = randomBytes(9 * MiB + 17);
  const b = randomBytes(3 * MiB);
  const extents: Extent[] = [dataExtent(0, a), emptyExtent('zero', a.length, 5 * MiB + 3), dataExtent(a.length + 5 * MiB + 3, b), emptyExtent('unallocated', a.length + 8 * MiB + 3, 2 * MiB)];
  const size = a.length + 10 * MiB + 3;
  const content = Buffer.concat([a, Buffer.alloc(5 * MiB + 3), b, Buffer.alloc(2 * MiB)]);
  const sha256 = createHash('sha256').update(content).digest('hex');
  // docs/integrity.md: SHA-256 over the SHA-256s of 512 KiB blocks, computed here block by block.
  const outer = createHash('sha256');
  for (let at = 0; at < content.length; at += 512 * 1024) outer.update(createHash('sha256').update(content.subarray(at, at + 512 * 1024)).digest());
  const linear = `sha256-linear-512k:${outer.digest('hex')}`;
  const disk = {
    virtualSize: size,
    info: { format: 'test', virtualSize: size, files: [], warnings: [] },
    async *extents() {
      yield* extents;
    },
    close: async () => undefined,
  } as DiskSource;
  return { disk, sha256: `sha256:${sha256}`, linear };
}

test('HashingSource: the digest on its own thread equals node:crypto over the same content (data larger than its buffers, zero runs as lengths)', async () => {
  const { disk, sha256, linear } = fakeDisk();
  const byDefault = new HashingSource(disk);
  for await (const _ of byDefault.source.extents()) void _;
  assert.equal(await byDefault.digest(), linear, 'the default digest is sha256-linear-512k');
  const h = new HashingSource(disk, 'sha256');
  for await (const _ of h.source.extents()) void _;
  assert.equal(await h.digest(), sha256);
  // A second pass (the OVA writer's sizing pass then its real pass) gives the same digest.
  for await (const _ of h.source.extents()) void _;
  assert.equal(await h.digest(), sha256);
});

test('HashingSource: a pass abandoned half-way has no digest, and a later full pass has the right one', async () => {
  const { disk, sha256 } = fakeDisk();
  const h = new HashingSource(disk, 'sha256');
  for await (const _ of h.source.extents()) break;
  assert.equal(await h.digest(), undefined);
  for await (const _ of h.source.extents()) void _;
  assert.equal(await h.digest(), sha256);
});

test('Sha256Thread: more updates than buffers wait for buffers to come back (bounded memory), and the digest is exact', async () => {
  const t = new Sha256Thread(64 * 1024, 2);
  const expected = createHash('sha256');
  for (let i = 0; i < 50; i++) {
    const piece = randomBytes(100 * 1024);
    expected.update(piece);
    await t.update(piece);
  }
  t.zeros(3 * MiB + 1);
  expected.update(Buffer.alloc(3 * MiB + 1));
  assert.equal(await t.digest(), expected.digest('hex'));
});

test('Sha256Thread: once closed, updates and digests fail instead of hanging', async () => {
  const t = new Sha256Thread(64 * 1024, 1);
  await t.close();
  await assert.rejects(t.update(Buffer.alloc(10)));
  await assert.rejects(t.digest());
});
