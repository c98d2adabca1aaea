import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { sha256File } from '../helpers/hash.js';
import { join } from 'node:path';
import { EMPTY_DISK, SMALL_DISK, SPARSE_DISK, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuToRaw } from '../helpers/qemu.js';
import { cachedQemuImage } from '../helpers/qemu-images.js';
import { assertSparseSourceMatchesRaw } from '../helpers/sparse-write-compare.js';
import { SHARED_FIXTURES, tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/run-command.js';
import { openDisk } from '../../agent/formats/detect.js';

/** Every VHDX variant qemu-img makes reads byte-identical to qemu-img convert -O raw. */
const CASES: Array<{ spec: RealisticDiskSpec; options: string[]; subformat: string }> = [
  { spec: SMALL_DISK, options: ['-o', 'subformat=dynamic'], subformat: 'dynamic' },
  { spec: SMALL_DISK, options: ['-o', 'subformat=fixed'], subformat: 'fixed' },
  { spec: SMALL_DISK, options: ['-o', 'subformat=dynamic,block_size=1M'], subformat: 'dynamic' },
  { spec: SMALL_DISK, options: ['-o', 'subformat=fixed,block_size=32M,log_size=2M'], subformat: 'fixed' },
  { spec: EMPTY_DISK, options: ['-o', 'subformat=dynamic'], subformat: 'dynamic' },
  { spec: SPARSE_DISK, options: ['-o', 'subformat=dynamic,block_size=4M'], subformat: 'dynamic' },
];

for (const c of CASES) {
  test(`vhdx ${c.spec.name} ${c.options.join(' ')} matches qemu-img convert -O raw`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const image = await cachedQemuImage(c.spec, 'vhdx', c.options);
      const oracle = await qemuToRaw(image, dir, 'vhdx');
      const disk = await openDisk(image);
      assert.equal(disk.info.format, 'vhdx', 'detected as vhdx');
      assert.equal(disk.info.subformat, c.subformat);
      assert.equal(disk.info.details?.['logReplayed'], false);
      if (c.spec.size > 1024 ** 3) await assertSparseSourceMatchesRaw(disk, oracle, dir);
      else await assertSourceMatchesRaw(disk, oracle);
      await disk.close();
    } finally {
      await cleanup();
    }
  });
}

test('vhdx block_size=1M reports its geometry and counts only stored blocks as allocated', async () => {
  const image = await cachedQemuImage(SMALL_DISK, 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']);
  const disk = await openDisk(image);
  try {
    assert.equal(disk.info.details?.['blockSize'], 1024 * 1024);
    assert.equal(disk.info.details?.['logicalSectorSize'], 512);
    assert.equal(disk.info.details?.['chunkRatio'], 4096);
    let data = 0;
    for await (const r of disk.extents()) if (r.kind === 'data') data += r.length;
    assert.equal(disk.info.allocatedBytes, data);
    assert.ok(data > 0 && data < SMALL_DISK.size, `allocated ${data} of ${SMALL_DISK.size}`);
  } finally {
    await disk.close();
  }
});

test('the Disk2vhd fixture (two identical headers, equal sequence numbers) reads to the SHA-256 in its README', async (t) => {
  const src = join(SHARED_FIXTURES, 'test-disk2vhd.vhdx.bz2');
  if (!existsSync(src)) return t.skip(`shared fixture ${src} is absent`);
  const { dir, cleanup } = await tempDir();
  try {
    const image = join(dir, 'test-disk2vhd.vhdx');
    await run('sh', ['-c', `bzip2 -dc '${src}' > '${image}'`]);
    const before = await sha256File(image);
    const disk = await openDisk(image);
    assert.equal(disk.info.format, 'vhdx');
    assert.equal(disk.virtualSize, 268435456);
    const h = createHash('sha256');
    for await (const e of disk.extents()) h.update(e.kind === 'data' ? e.data : Buffer.alloc(e.length));
    await disk.close();
    assert.equal(h.digest('hex'), '96d964042be9b58dda1725567abfb0cf9fd8380e2118754afa979c2ad445938a');
    assert.equal(await sha256File(image), before, 'the image is unchanged');
  } finally {
    await cleanup();
  }
});
