import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { qemuFromRaw, qemuImg, qemuToRaw, assertSourceMatchesRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { REGION_TABLES } from '../helpers/vhdx-edit.js';
import { openDisk } from '../../agent/formats/detect.js';

/**
 * Where vmxfer reads an image differently from qemu-img on purpose (docs/formats.md, "Where vmxfer
 * and qemu-img differ"). Each test shows both readings, so a change on either side is noticed.
 */

const MiB = 1024 * 1024;

test('dynamic VHD: a sector whose bitmap bit is clear reads as zeros (VHD spec "Block Format"), where qemu-img reads the stored bytes', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const content = randomBytes(4 * MiB);
    const src = join(dir, 'src.raw');
    await writeFile(src, content);
    const vhd = await qemuFromRaw(src, join(dir, 'd.vhd'), 'vpc', ['-o', 'subformat=dynamic']);
    // Block 0's sector bitmap: the footer copy's Data Offset names the dynamic header, whose Table Offset names the BAT.
    const file = await readFile(vhd);
    const dyn = Number(file.readBigUInt64BE(16));
    const bat = Number(file.readBigUInt64BE(dyn + 16));
    const bitmapAt = file.readUInt32BE(bat) * 512;
    const fh = await open(vhd, 'r+');
    await fh.write(Buffer.from([0x7f]), 0, 1, bitmapAt); // sector 0's bit (the most significant) cleared
    await fh.close();
    const expected = Buffer.from(content);
    expected.fill(0, 0, 512);
    // qemu sizes its own VHDs by CHS geometry, a little over the 4 MiB written: the rest reads as zeros.
    const oracle = await readFile(await qemuToRaw(vhd, dir, 'vpc'));
    assert.ok(oracle.subarray(0, 512).equals(content.subarray(0, 512)), 'qemu-img ignores the bitmap and reads the stored sector');
    const disk = await openDisk(vhd);
    try {
      const mine = join(dir, 'expected.raw');
      const sized = Buffer.alloc(disk.virtualSize);
      expected.copy(sized);
      await writeFile(mine, sized);
      await assertSourceMatchesRaw(disk, mine);
    } finally {
      await disk.close();
    }
  } finally {
    await cleanup();
  }
});

test('VHDX: a corrupt first region table is read from the second (VHDX §2.2.3, two copies), where qemu-img refuses the file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'src.raw');
    await writeFile(src, randomBytes(4 * MiB));
    const image = await qemuFromRaw(src, join(dir, 'r.vhdx'), 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']);
    const fh = await open(image, 'r+');
    await fh.write(Buffer.from([0xee]), 0, 1, REGION_TABLES[0]! + 40); // inside the first table: its CRC-32C no longer matches
    await fh.close();
    await assert.rejects(qemuImg(['info', '-f', 'vhdx', image]), /Could not open/);
    const disk = await openDisk(image, { format: 'vhdx' });
    try {
      assert.ok(disk.info.warnings.some((w) => /region table/.test(w) && /backup copy/.test(w)), disk.info.warnings.join('; '));
      await assertSourceMatchesRaw(disk, src);
    } finally {
      await disk.close();
    }
  } finally {
    await cleanup();
  }
});
