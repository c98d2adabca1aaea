import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { truncate } from 'node:fs/promises';
import { buildRealisticDisk, EMPTY_DISK, SMALL_DISK, SPARSE_DISK } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuFromRaw, qemuImg, qemuToRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { hideHeaderExtension, qemuCreate, qemuIo, withMaxDataLength } from '../helpers/qcow2-images.js';
import { openDisk } from '../../agent/formats/detect.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';

let dir: string;
let cleanup: () => Promise<void>;
let small: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-qcow2-read-'));
  small = await buildRealisticDisk(SMALL_DISK);
});
after(() => cleanup());

/** Opens `image` with format detection and checks every byte against `qemu-img convert -O raw`. */
async function assertReadsLikeQemu(image: string, check?: (disk: DiskSource) => void): Promise<DiskSource> {
  const oracle = await qemuToRaw(image, dir);
  const disk = await openDisk(image);
  try {
    assert.equal(disk.info.format, 'qcow2');
    await assertSourceMatchesRaw(disk, oracle);
    check?.(disk);
  } finally {
    await disk.close();
  }
  return disk;
}

test('qcow2 v2 (compat=0.10) reads byte-identical to qemu-img', async () => {
  const img = await qemuFromRaw(small, join(dir, 'v2.qcow2'), 'qcow2', ['-o', 'compat=0.10']);
  await assertReadsLikeQemu(img, (d) => {
    assert.equal(d.info.details?.version, 2);
    assert.equal(d.info.subformat, 'v2');
  });
});

test('qcow2 v3 (default) reads byte-identical to qemu-img, allocatedBytes from the L2 tables', async () => {
  const img = await qemuFromRaw(small, join(dir, 'v3.qcow2'), 'qcow2');
  const map: Array<{ length: number; data: boolean }> = JSON.parse(await qemuImg(['map', '--output=json', img]));
  const qemuData = map.filter((m) => m.data).reduce((n, m) => n + m.length, 0);
  await assertReadsLikeQemu(img, (d) => {
    assert.equal(d.info.details?.version, 3);
    assert.equal(d.info.details?.clusterSize, 65536);
    assert.equal(d.info.details?.dataBytes, qemuData, 'data bytes differ from qemu-img map');
    assert.equal(d.info.allocatedBytes, qemuData);
  });
});

test('zlib-compressed qcow2 (-c) reads byte-identical, also with extents cut to 20000 bytes', async () => {
  const img = await qemuFromRaw(small, join(dir, 'zlib.qcow2'), 'qcow2', ['-c']);
  await assertReadsLikeQemu(img, (d) => assert.equal(d.info.details?.compressionType, 'zlib'));
  const oracle = await qemuToRaw(img, dir);
  const disk = withMaxDataLength(await openDisk(img), 20000);
  try {
    let longest = 0;
    for await (const e of disk.extents()) if (e.kind === 'data') longest = Math.max(longest, e.length);
    assert.ok(longest <= 20000, `a data extent of ${longest} bytes exceeds maxDataLength`);
    await assertSourceMatchesRaw(disk, oracle);
  } finally {
    await disk.close();
  }
});

test('zstd-compressed qcow2 (-c -o compression_type=zstd) reads byte-identical', async () => {
  const img = await qemuFromRaw(small, join(dir, 'zstd.qcow2'), 'qcow2', ['-c', '-o', 'compression_type=zstd']);
  await assertReadsLikeQemu(img, (d) => assert.equal(d.info.details?.compressionType, 'zstd'));
});

test('extended L2 (128k clusters, 4k subclusters) with zeroed, discarded and partly written subclusters', async () => {
  const img = await qemuFromRaw(small, join(dir, 'ext.qcow2'), 'qcow2', ['-o', 'extended_l2=on,cluster_size=128k']);
  // Inside the ext4 area: zero 8k and 12k inside clusters, discard a subcluster run, rewrite one 4k subcluster.
  await qemuIo(img, ['write -z 1056768 8192', 'discard 2109440 12288', 'write -P 0xab 3158016 4096', 'write -z 4194304 131072']);
  await assertReadsLikeQemu(img, (d) => {
    assert.equal(d.info.details?.extendedL2, true);
    assert.equal(d.info.details?.clusterSize, 131072);
    assert.ok((d.info.details?.zeroBytes as number) >= 8192 + 131072, `zeroBytes ${d.info.details?.zeroBytes}`);
  });
});

test('extended L2 image written by qemu-io from scratch: partly allocated clusters read the rest as zero', async () => {
  const img = join(dir, 'ext-sparse.qcow2');
  await qemuCreate(img, ['-o', 'extended_l2=on,cluster_size=64k'], 8 * 1024 * 1024 + 512);
  await qemuIo(img, ['write -P 0x11 2048 4096', 'write -P 0x22 65536 2048', 'write -z 131072 65536', 'write -P 0x33 8388608 512']);
  await assertReadsLikeQemu(img);
});

test('backing chain: overlay writes, zero-writes over base data and unallocated clusters reading the base', async () => {
  await qemuFromRaw(small, join(dir, 'base.qcow2'), 'qcow2');
  const top = join(dir, 'top.qcow2');
  await qemuCreate(top, ['-b', 'base.qcow2', '-F', 'qcow2']);
  await qemuIo(top, ['write -P 0x5a 1048576 65536', 'write -P 0x5b 5000000 100000', 'write -z 2097152 1048576', 'write -z 52428800 65536']);
  await assertReadsLikeQemu(top, (d) => {
    assert.equal(d.info.details?.backingFile, 'base.qcow2');
    assert.equal(d.info.details?.backingFormat, 'qcow2');
    assert.equal(d.info.parent?.format, 'qcow2');
    assert.equal(d.info.files.length, 2);
  });
});

test('three-level chain with an extended-L2 top whose unallocated subclusters fall through', async () => {
  const mid = join(dir, 'mid.qcow2');
  const top = join(dir, 'top3.qcow2');
  await qemuFromRaw(small, join(dir, 'base3.qcow2'), 'qcow2', ['-c']);
  await qemuCreate(mid, ['-b', 'base3.qcow2', '-F', 'qcow2']);
  await qemuIo(mid, ['write -P 0x01 0 131072', 'write -z 3145728 65536']);
  await qemuCreate(top, ['-b', 'mid.qcow2', '-F', 'qcow2', '-o', 'extended_l2=on,cluster_size=128k']);
  await qemuIo(top, ['write -P 0x02 4096 4096', 'write -z 3149824 4096', 'write -P 0x03 40000000 10000']);
  await assertReadsLikeQemu(top, (d) => assert.equal(d.info.parent?.parent?.format, 'qcow2'));
});

test('qcow2 over a smaller raw backing file (format from the extension) reads zeros past the backing end', async () => {
  const base = join(dir, 'base-small.raw');
  await qemuFromRaw(small, base, 'raw');
  await truncate(base, 20 * 1024 * 1024 + 512);
  const top = join(dir, 'over-raw.qcow2');
  await qemuCreate(top, ['-b', base, '-F', 'raw'], SMALL_DISK.size);
  await qemuIo(top, ['write -P 0x77 1048576 4096', 'write -P 0x78 30000000 70000']);
  await assertReadsLikeQemu(top, (d) => {
    assert.equal(d.info.parent?.format, 'raw');
    assert.equal(d.info.parent?.virtualSize, 20 * 1024 * 1024 + 512);
  });
});

test('qcow2 over a raw backing file without a format extension is detected as raw', async () => {
  const base = join(dir, 'plain-base.raw');
  await qemuFromRaw(small, base, 'raw');
  const top = join(dir, 'undetected.qcow2');
  await qemuCreate(top, ['-b', base, '-F', 'raw']);
  await hideHeaderExtension(top, 0xe2792aca);
  await qemuIo(top, ['write -P 0x42 0 512']);
  await assertReadsLikeQemu(top, (d) => assert.equal(d.info.parent?.format, 'raw'));
});

test('empty and sparse multi-GiB qcow2 images read byte-identical', async () => {
  const empty = await qemuFromRaw(await buildRealisticDisk(EMPTY_DISK), join(dir, 'empty.qcow2'), 'qcow2');
  // EMPTY_DISK holds only a sentence in its last sector, the last (512-byte) guest cluster.
  await assertReadsLikeQemu(empty, (d) => assert.equal(d.info.allocatedBytes, 512));
  const sparse = await qemuFromRaw(await buildRealisticDisk(SPARSE_DISK), join(dir, 'sparse.qcow2'), 'qcow2');
  const disk = await openDisk(sparse);
  try {
    assert.equal(disk.virtualSize, SPARSE_DISK.size);
    // The map tiles the disk and its data adds up to allocatedBytes.
    let pos = 0;
    let data = 0;
    for await (const r of disk.extents()) {
      assert.equal(r.offset, pos);
      pos += r.length;
      if (r.kind === 'data') data += r.length;
    }
    assert.equal(pos, SPARSE_DISK.size);
    assert.equal(data, disk.info.allocatedBytes);
  } finally {
    await disk.close();
  }
});
