import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { fileDataRanges } from '../../agent/io/file-data-ranges.js';
import { sparseFileAddon } from '../../agent/io/sparse-file-addon.js';
import { assertSourceMatchesRaw, qemuToRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;
const addon = sparseFileAddon();
const noAddon = addon ? false : 'native/sparse-file addon not built (run node scripts/build-native.mjs): holes are read as data';

/** A 256 MiB sparse file with 1 MiB of bytes at 0, at 100 MiB + 4 KiB and at the very end; the rest holes. */
async function sparseFile(dir: string): Promise<{ path: string; data: Array<[number, number]> }> {
  const path = join(dir, 'sparse.raw');
  const data: Array<[number, number]> = [[0, MiB], [100 * MiB + 4096, MiB], [255 * MiB, MiB]];
  await writeFile(path, '');
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(256 * MiB);
    for (const [at, len] of data) await fh.write(Buffer.alloc(len, 0x5a + (at % 7)), 0, len, at);
  } finally {
    await fh.close();
  }
  return { path, data };
}

test('raw reader over a sparse file: holes come out as unallocated extents and are never read; content equals qemu-img -O raw', { skip: noAddon }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { path, data } = await sparseFile(dir);
    const disk = await openDisk(path, { format: 'raw' });
    const read = { data: 0, unallocated: 0 };
    for await (const e of disk.extents({ maxDataLength: 4 * MiB })) read[e.kind === 'data' ? 'data' : 'unallocated'] += e.length;
    const stored = data.reduce((n, [, len]) => n + len, 0);
    // File systems allocate whole blocks (4 KiB here, at most 64 KiB anywhere sane) around each write.
    assert.ok(read.data >= stored && read.data <= stored + data.length * 2 * 65536, `read ${read.data} bytes of data for ${stored} stored`);
    assert.equal(read.data + read.unallocated, 256 * MiB);
    assert.equal(disk.info.allocatedBytes, read.data);
    let mapped = 0;
    for await (const r of disk.extents()) if (r.kind === 'data') mapped += r.length;
    assert.equal(mapped, read.data);
    await assertSourceMatchesRaw(disk, await qemuToRaw(path, dir, 'raw'));
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('raw reader: data extents are cut at multiples of maxDataLength, so chunks of that size come whole', { skip: noAddon }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { path } = await sparseFile(dir);
    const disk = await openDisk(path, { format: 'raw' });
    for await (const e of disk.extents({ maxDataLength: 4 * MiB })) {
      if (e.kind !== 'data') continue;
      assert.equal(Math.floor(e.offset / (4 * MiB)), Math.floor((e.offset + e.length - 1) / (4 * MiB)), `extent at ${e.offset} (+${e.length}) crosses a 4 MiB boundary`);
    }
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('fileDataRanges: without the addon (or when lseek refuses) the whole file is one data range', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { path } = await sparseFile(dir);
    const fh = await open(path, 'r');
    try {
      assert.deepEqual([...fileDataRanges(fh.fd, 256 * MiB, null)], [{ offset: 0, length: 256 * MiB }]);
      const refusing = { nextData: () => { throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' }); }, nextHole: () => 0 };
      assert.deepEqual([...fileDataRanges(fh.fd, 256 * MiB, refusing)], [{ offset: 0, length: 256 * MiB }]);
      assert.deepEqual([...fileDataRanges(fh.fd, 0, addon)], []);
    } finally {
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});

test('VMXFER_NO_NATIVE=1 disables hole detection; the addon itself answers ENXIO past the data as -1', { skip: noAddon }, async () => {
  assert.equal(sparseFileAddon({ VMXFER_NO_NATIVE: '1' }), null);
  const { dir, cleanup } = await tempDir();
  try {
    const { path } = await sparseFile(dir);
    const fh = await open(path, 'r');
    try {
      assert.equal(addon!.nextData(fh.fd, 0), 0);
      assert.ok(addon!.nextHole(fh.fd, 0) >= MiB);
      assert.equal(addon!.nextData(fh.fd, 256 * MiB), -1);
      assert.throws(() => addon!.nextData(-1, 0), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
      assert.throws(() => addon!.nextData(fh.fd, -5), TypeError);
    } finally {
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});
