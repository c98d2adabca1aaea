import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRealisticDisk, EMPTY_DISK, SMALL_DISK, SPARSE_DISK, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuFromRaw, qemuImg, qemuInfo } from '../helpers/qemu.js';
import { qemuMap } from '../helpers/qemu-map.js';
import { writeStreamToFile } from '../../agent/io/file-output.js';
import { vhdDynamicWriter } from '../../agent/formats/vhd/vhd-dynamic-writer.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { openDisk } from '../../agent/formats/detect.js';

const MiB = 1024 * 1024;
const BLOCK = 2 * MiB;

async function convert(src: string, out: string, to: string): Promise<void> {
  const r = await vmxfer(['convert', src, out, '--to', to, '--format', 'raw', '--json']);
  assert.equal(r.code, 0, r.stderr);
}

/**
 * Blocks of the raw source holding any non-zero byte, computed here by reading the source (only where
 * the file has data: `qemu-img map -f raw` lists its non-hole ranges), not by our code.
 */
async function nonZeroBlocks(raw: string): Promise<number> {
  const fh = await open(raw, 'r');
  try {
    const blocks = new Set<number>();
    for (const m of await qemuMap(raw, 'raw')) {
      if (!m.data) continue;
      for (let pos = m.start; pos < m.start + m.length; ) {
        const n = Math.min(BLOCK - (pos % BLOCK), m.start + m.length - pos);
        const buf = Buffer.alloc(n);
        await fh.read(buf, 0, n, pos);
        if (buf.some((b) => b !== 0)) blocks.add(Math.floor(pos / BLOCK));
        pos += n;
      }
    }
    return blocks.size;
  } finally {
    await fh.close();
  }
}

async function checkDynamic(spec: RealisticDiskSpec): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(spec);
    const out = join(dir, 'out.vhd');
    await convert(src, out, 'vhd');
    const info = await qemuInfo(out, 'vpc');
    assert.equal(info.format, 'vpc');
    assert.equal(info['virtual-size'], spec.size);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'vpc', src, out]), /identical/);
    const blocks = Math.ceil(spec.size / BLOCK);
    const head = 512 + 1024 + Math.ceil((blocks * 4) / 512) * 512;
    const allocated = await nonZeroBlocks(src);
    assert.equal((await stat(out)).size, head + allocated * (512 + BLOCK) + 512, 'only blocks with non-zero data are stored');
    if (spec.size < 1024 * MiB) {
      const disk = await openDisk(out);
      await assertSourceMatchesRaw(disk, src).finally(() => disk.close());
    }
  } finally {
    await cleanup();
  }
}

test('vhd (dynamic) writer: SMALL_DISK opens in qemu-img info, compares identical, zero blocks unallocated, reads back', () => checkDynamic(SMALL_DISK));

test('vhd (dynamic) writer: EMPTY_DISK is footer, header, BAT and footer only', () => checkDynamic(EMPTY_DISK));

test('vhd (dynamic) writer: 6 GiB SPARSE_DISK read from a qemu dynamic VHD compares identical in qemu', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(SPARSE_DISK);
    const qemuVhd = await qemuFromRaw(src, join(dir, 'qemu.vhd'), 'vpc', ['-o', 'subformat=dynamic,force_size=on']);
    const out = join(dir, 'out.vhd');
    // Through the API, not the CLI: the CLI hashes all 6 GiB, which is the pipeline's cost, not the writer's.
    const disk = await openDisk(qemuVhd);
    const t0 = performance.now();
    await writeStreamToFile(out, vhdDynamicWriter.write(disk)).finally(() => disk.close());
    const seconds = (performance.now() - t0) / 1000;
    assert.equal((await qemuInfo(out, 'vpc'))['virtual-size'], SPARSE_DISK.size);
    assert.match(await qemuImg(['compare', '-f', 'vpc', '-F', 'vpc', qemuVhd, out]), /identical/);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'vpc', src, out]), /identical/);
    const blocks = Math.ceil(SPARSE_DISK.size / BLOCK);
    const head = 512 + 1024 + Math.ceil((blocks * 4) / 512) * 512;
    assert.equal((await stat(out)).size, head + (await nonZeroBlocks(src)) * (512 + BLOCK) + 512);
    assert.ok(seconds < 30, `writing a 6 GiB sparse disk took ${seconds.toFixed(1)} s`);
  } finally {
    await cleanup();
  }
});

async function checkFixed(spec: RealisticDiskSpec): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(spec);
    const out = join(dir, 'out.vhd');
    await convert(src, out, 'vhd-fixed');
    const padded = Math.ceil(spec.size / MiB) * MiB;
    assert.equal((await stat(out)).size, padded + 512, 'fixed output = size padded to a MiB + the footer');
    const info = await qemuInfo(out, 'vpc');
    assert.equal(info['virtual-size'], padded);
    const paddedSrc = join(dir, 'padded.raw');
    await copyFile(src, paddedSrc);
    await truncate(paddedSrc, padded);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'vpc', paddedSrc, out]), /identical/);
    const disk = await openDisk(out);
    try {
      assert.equal(disk.info.subformat, 'fixed');
      await assertSourceMatchesRaw(disk, paddedSrc);
    } finally {
      await disk.close();
    }
  } finally {
    await cleanup();
  }
}

test('vhd-fixed writer: SMALL_DISK padded to a whole MiB, qemu compare identical with the padded source', () => checkFixed(SMALL_DISK));

test('vhd-fixed writer: EMPTY_DISK padded to a whole MiB', () => checkFixed(EMPTY_DISK));

test('vhd-fixed footer carries the spec CHS geometry of the padded size', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = await buildRealisticDisk(SMALL_DISK);
    const out = join(dir, 'f.vhd');
    await convert(src, out, 'vhd-fixed');
    const fh = await open(out, 'r');
    const footer = Buffer.alloc(512);
    const { size } = await fh.stat();
    await fh.read(footer, 0, 512, size - 512);
    await fh.close();
    const sectors = (size - 512) / 512;
    // VHD spec Appendix "CHS Calculation", evaluated by hand for 81 MiB (165888 sectors): 17 sectors
    // per track gives 9758 cylinders*heads, 10 heads -> 975 cylinders, under 1024: kept.
    assert.equal(sectors, 165888);
    assert.deepEqual([footer.readUInt16BE(56), footer[58], footer[59]], [975, 10, 17]);
    assert.equal(footer.toString('latin1', 0, 8), 'conectix');
    assert.equal(footer.readUInt32BE(60), 2);
    assert.equal(Number(footer.readBigUInt64BE(48)), size - 512);
  } finally {
    await cleanup();
  }
});
