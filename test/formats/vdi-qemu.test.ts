import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_DISK, SMALL_DISK, SPARSE_DISK, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuToRaw } from '../helpers/qemu.js';
import { cachedQemuImage, copyInto } from '../helpers/qemu-images.js';
import { assertSparseSourceMatchesRaw } from '../helpers/sparse-write-compare.js';
import { tempDir } from '../helpers/tmp.js';
import { openDisk } from '../../agent/formats/detect.js';

const CASES: Array<{ spec: RealisticDiskSpec; options: string[]; subformat: string }> = [
  { spec: SMALL_DISK, options: [], subformat: 'dynamic' },
  { spec: SMALL_DISK, options: ['-o', 'static=on'], subformat: 'static' },
  { spec: EMPTY_DISK, options: [], subformat: 'dynamic' },
  { spec: SPARSE_DISK, options: [], subformat: 'dynamic' },
];

for (const c of CASES) {
  test(`vdi ${c.spec.name} ${c.options.join(' ') || 'dynamic'} matches qemu-img convert -O raw`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const image = await cachedQemuImage(c.spec, 'vdi', c.options);
      const oracle = await qemuToRaw(image, dir, 'vdi');
      const disk = await openDisk(image);
      assert.equal(disk.info.format, 'vdi', 'detected as vdi');
      assert.equal(disk.info.subformat, c.subformat);
      assert.equal(disk.info.details?.['blockSize'], 1024 * 1024);
      if (c.spec.size > 1024 ** 3) await assertSparseSourceMatchesRaw(disk, oracle, dir);
      else await assertSourceMatchesRaw(disk, oracle);
      await disk.close();
    } finally {
      await cleanup();
    }
  });
}

test('vdi: a block map entry patched to 0xFFFFFFFE (discarded) reads as zeros, the rest unchanged', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const image = await copyInto(dir, await cachedQemuImage(SMALL_DISK, 'vdi', []));
    const oracle = await qemuToRaw(image, dir, 'vdi');
    const fh = await open(image, 'r+');
    const header = Buffer.alloc(512);
    await fh.read(header, 0, 512, 0);
    const mapOffset = header.readUInt32LE(340);
    const blockSize = header.readUInt32LE(376);
    const map = Buffer.alloc(header.readUInt32LE(384) * 4);
    await fh.read(map, 0, map.length, mapOffset);
    let block = 1;
    while (map.readUInt32LE(block * 4) === 0xffffffff) block++;
    const entry = Buffer.alloc(4);
    entry.writeUInt32LE(0xfffffffe);
    await fh.write(entry, 0, 4, mapOffset + block * 4);
    await fh.close();
    const expected = join(dir, 'expected.raw');
    await copyFile(oracle, expected);
    const ex = await open(expected, 'r+');
    const before = Buffer.alloc(blockSize);
    await ex.read(before, 0, blockSize, block * blockSize);
    assert.ok(before.some((b) => b !== 0), 'the block held non-zero data before the discard');
    await ex.write(Buffer.alloc(blockSize), 0, blockSize, block * blockSize);
    await ex.close();
    const disk = await openDisk(image);
    assert.equal(disk.info.details?.['discardedBlocks'], 1);
    const kinds: string[] = [];
    for await (const r of disk.extents()) if (r.offset <= block * blockSize && block * blockSize < r.offset + r.length) kinds.push(r.kind);
    assert.deepEqual(kinds, ['zero']);
    await assertSourceMatchesRaw(disk, expected);
    await disk.close();
  } finally {
    await cleanup();
  }
});
