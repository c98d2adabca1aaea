import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRealisticDisk, EMPTY_DISK, SMALL_DISK, SPARSE_DISK, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuFromRaw, qemuInfo, qemuToRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { assertMatchesQemuMap, qemuMap } from '../helpers/qemu-map.js';
import { detectFormat, openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

/** qemu writes the image; our reader must yield exactly what `qemu-img convert -f vpc -O raw` yields. */
async function checkAgainstQemu(spec: RealisticDiskSpec, options: string[], subformat: string): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(spec);
    const vhd = await qemuFromRaw(src, join(dir, `${spec.name}.vhd`), 'vpc', options);
    const oracle = await qemuToRaw(vhd, dir, 'vpc');
    assert.equal((await detectFormat(vhd)).name, 'vhd');
    const disk = await openDisk(vhd);
    try {
      assert.equal(disk.info.format, 'vhd');
      assert.equal(disk.info.subformat, subformat);
      assert.equal(disk.virtualSize, (await qemuInfo(vhd, 'vpc'))['virtual-size']);
      await assertSourceMatchesRaw(disk, oracle);
    } finally {
      await disk.close();
    }
  } finally {
    await cleanup();
  }
}

test('dynamic VHD from qemu (SMALL_DISK) reads byte-identical to qemu-img convert -O raw', () =>
  checkAgainstQemu(SMALL_DISK, ['-o', 'subformat=dynamic'], 'dynamic'));

test('fixed VHD from qemu with force_size (SMALL_DISK) reads byte-identical to qemu', () =>
  checkAgainstQemu(SMALL_DISK, ['-o', 'subformat=fixed,force_size=on'], 'fixed'));

test('dynamic VHD of an empty disk (EMPTY_DISK) reads as qemu reads it', () => checkAgainstQemu(EMPTY_DISK, ['-o', 'subformat=dynamic'], 'dynamic'));

test('fixed VHD of an empty disk (EMPTY_DISK) reads as qemu reads it', () =>
  checkAgainstQemu(EMPTY_DISK, ['-o', 'subformat=fixed,force_size=on'], 'fixed'));

test('dynamic VHD of a 6 GiB sparse disk (SPARSE_DISK): data extents equal the bytes qemu reads, qemu data ranges covered', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const vhd = await qemuFromRaw(await buildRealisticDisk(SPARSE_DISK), join(dir, 's.vhd'), 'vpc', ['-o', 'subformat=dynamic']);
    const oracle = await open(await qemuToRaw(vhd, dir, 'vpc'), 'r');
    const disk = await openDisk(vhd);
    try {
      assert.equal(disk.virtualSize, (await qemuInfo(vhd, 'vpc'))['virtual-size']);
      const readOracle = async (offset: number, length: number) => (await oracle.read(Buffer.alloc(length), 0, length, offset)).buffer;
      const compared = await assertMatchesQemuMap(disk, await qemuMap(vhd, 'vpc'), readOracle);
      assert.ok(compared > 0 && compared < 64 * 1024 * 1024, `compared ${compared} data bytes of a 6 GiB sparse disk`);
    } finally {
      await disk.close();
      await oracle.close();
    }
  } finally {
    await cleanup();
  }
});

test('data extents respect maxDataLength and the reader stops when aborted', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const vhd = await qemuFromRaw(await buildRealisticDisk(SMALL_DISK), join(dir, 'a.vhd'), 'vpc', ['-o', 'subformat=dynamic']);
    const disk = await openDisk(vhd);
    const max = 3 * 1024 * 1024 + 512;
    let maxSeen = 0;
    for await (const e of disk.extents({ maxDataLength: max })) if (e.kind === 'data') maxSeen = Math.max(maxSeen, e.length);
    assert.equal(maxSeen, max, 'adjacent blocks are coalesced up to maxDataLength and no further');
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of disk.extents({ signal: ac.signal })) if (++seen === 2) ac.abort();
      })(),
      (err: unknown) => isVmxferError(err) && err.code === 'VMX_ABORTED',
    );
    assert.equal(seen, 2);
    await disk.close();
  } finally {
    await cleanup();
  }
});
