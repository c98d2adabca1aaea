import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRealisticDisk, EMPTY_DISK, SMALL_DISK, SPARSE_DISK, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { qemuImg, qemuInfo } from '../helpers/qemu.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { openDisk } from '../../agent/formats/detect.js';
import { createStreamOptimizedWriter, streamOptimizedWriter } from '../../agent/formats/vmdk/stream-optimized-writer.js';
import { isVmxferError } from '../../agent/core/errors.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import type { Extent } from '../../agent/disk/extent.js';

const MiB = 1024 * 1024;
const GRAIN_SECTORS = 128;
const GT_SPAN_SECTORS = GRAIN_SECTORS * 512;

/** 16 MiB of random (incompressible) bytes, not grain-aligned, in a 24 MiB disk. */
const RANDOM_DISK: RealisticDiskSpec = { name: 'vmdkw-random', size: 24 * MiB, fsMiB: 0, fillFrom: [], randomMiB: 16 };
/** A size that is a whole number of sectors but not of 64 KiB grains; text ends inside the last grain. */
const ODD_SIZE_DISK: RealisticDiskSpec = { name: 'vmdkw-odd', size: 3 * MiB + 5 * 512, fsMiB: 0, fillFrom: [], textMiB: 1 };

interface StreamLayout {
  grainLbas: number[];
  storedGrains: number;
  tables: Array<{ sector: number; gtIndex: number }>;
  footerGdOffset: bigint;
  gdSector: number;
  descriptor: string;
}

/**
 * Walks an output file marker by marker, independently of the writer's code (VMDK 5.0
 * §Stream-Optimized Compressed Sparse Extents), and checks the header, the order of grains and
 * tables, the directory and the footer.
 */
async function walkStream(path: string): Promise<StreamLayout> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const read = async (sector: number, n = 1) => {
      const b = Buffer.alloc(n * 512);
      await fh.read(b, 0, b.length, sector * 512);
      return b;
    };
    const header = await read(0);
    assert.equal(header.readUInt32LE(0), 0x564d444b, 'magic KDMV');
    assert.equal(header.readUInt32LE(4), 3, 'version 3');
    assert.equal(header.readUInt32LE(8), 0x30001, 'flags: newline test, compressed, markers');
    assert.equal(header.readBigUInt64LE(20), 128n, 'grainSize');
    assert.equal(header.readUInt32LE(44), 512, 'numGTEsPerGT');
    assert.equal(header.readBigUInt64LE(56), 0xffffffffffffffffn, 'gdOffset = GD_AT_END');
    assert.equal(header.toString('latin1', 73, 77), '\n \r\n', 'newline-detection bytes');
    assert.equal(header.readUInt16LE(77), 1, 'compressAlgorithm deflate');
    const descriptor = (await read(Number(header.readBigUInt64LE(28)), Number(header.readBigUInt64LE(36)))).toString('utf8').replace(/\0+$/, '');
    assert.match(descriptor, /createType="streamOptimized"/);
    assert.match(descriptor, new RegExp(`RW ${header.readBigUInt64LE(12)} SPARSE "`));
    const layout: StreamLayout = { grainLbas: [], storedGrains: 0, tables: [], footerGdOffset: 0n, gdSector: 0, descriptor };
    let pendingTable = -1;
    let sector = Number(header.readBigUInt64LE(64));
    for (;;) {
      assert.ok(sector * 512 < size, `stream runs past the end of the file at sector ${sector}`);
      const m = await read(sector);
      const val = Number(m.readBigUInt64LE(0));
      const markerSize = m.readUInt32LE(8);
      if (markerSize > 0) {
        const gt = Math.floor(val / GT_SPAN_SECTORS);
        assert.ok(layout.grainLbas.length === 0 || val > layout.grainLbas.at(-1)!, `grain LBA ${val} out of order`);
        assert.ok(pendingTable === -1 || pendingTable === gt, `grain of table ${gt} before table ${pendingTable} was written`);
        pendingTable = gt;
        layout.grainLbas.push(val);
        if (markerSize === 65552) layout.storedGrains++;
        sector += Math.ceil((12 + markerSize) / 512);
        continue;
      }
      const type = m.readUInt32LE(12);
      if (type === 1) {
        assert.notEqual(pendingTable, -1, `grain table at sector ${sector} covers no grain`);
        layout.tables.push({ sector: sector + 1, gtIndex: pendingTable });
        pendingTable = -1;
      } else if (type === 2) {
        assert.equal(pendingTable, -1, 'the directory comes after the last table');
        layout.gdSector = sector + 1;
        const gd = await read(sector + 1, val);
        for (const t of layout.tables) assert.equal(gd.readUInt32LE(4 * t.gtIndex), t.sector, `GD entry ${t.gtIndex}`);
        const nonZero = Array.from({ length: val * 128 }, (_, i) => gd.readUInt32LE(4 * i)).filter((x) => x !== 0).length;
        assert.equal(nonZero, layout.tables.length, 'GD entries exist only for written tables');
      } else if (type === 3) {
        const footer = await read(sector + 1);
        layout.footerGdOffset = footer.readBigUInt64LE(56);
        assert.equal(layout.footerGdOffset, BigInt(layout.gdSector), "footer's gdOffset points at the directory");
        assert.ok(footer.subarray(0, 56).equals(header.subarray(0, 56)), 'footer repeats the header before gdOffset');
      } else {
        assert.equal(type, 0, `unknown marker type ${type} at sector ${sector}`);
        assert.equal((sector + 1) * 512, size, 'end-of-stream marker is the last sector');
        return layout;
      }
      sector += 1 + val;
    }
  } finally {
    await fh.close();
  }
}

/** Converts through the real CLI and checks everything qemu-img and the stream walk can tell. */
async function convertAndVerify(spec: RealisticDiskSpec): Promise<{ layout: StreamLayout; outputBytes: number; cleanup: () => Promise<void> }> {
  const src = await buildRealisticDisk(spec);
  const { dir, cleanup } = await tempDir();
  const out = join(dir, 'out.vmdk');
  const r = await vmxfer(['convert', src, out, '--to', 'vmdk', '--format', 'raw', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(result.outputBytes, (await stat(out)).size);
  await qemuImg(['check', '-f', 'vmdk', out]);
  const info = await qemuInfo(out, 'vmdk');
  assert.equal(info['format-specific']?.type, 'vmdk');
  assert.equal(info['format-specific'].data['create-type'], 'streamOptimized');
  assert.equal(info['format-specific'].data.extents[0].compressed, true);
  assert.equal(info['virtual-size'], spec.size);
  const cmp = await qemuImg(['compare', '-f', 'raw', '-F', 'vmdk', src, out]);
  assert.match(cmp, /Images are identical/);
  const disk = await openDisk(src, { format: 'raw' });
  const bound = streamOptimizedWriter.maxOutputSize(disk);
  await disk.close();
  assert.ok(result.outputBytes <= bound, `output ${result.outputBytes} bytes exceeds maxOutputSize ${bound}`);
  const layout = await walkStream(out);
  return { layout, outputBytes: result.outputBytes, cleanup };
}

test('SMALL_DISK → vmdk: qemu-img check/info/compare accept it, one table per 32 MiB range used', async () => {
  const { layout, cleanup } = await convertAndVerify(SMALL_DISK);
  try {
    assert.ok(layout.grainLbas.length > 100);
    const sectors = Math.ceil(SMALL_DISK.size / 512);
    assert.match(layout.descriptor, new RegExp(`^RW ${sectors} SPARSE "out.vmdk"$`, 'm'));
    assert.match(layout.descriptor, /^ddb.adapterType = "lsilogic"$/m);
    assert.match(layout.descriptor, new RegExp(`^ddb.geometry.cylinders = "${Math.floor(sectors / (255 * 63))}"$`, 'm'));
    assert.match(layout.descriptor, /^ddb.geometry.heads = "255"$/m);
    assert.match(layout.descriptor, /^ddb.geometry.sectors = "63"$/m);
    assert.match(layout.descriptor, /^CID=[0-9a-f]{8}$/m);
    assert.match(layout.descriptor, /^ddb.virtualHWVersion = "4"$/m);
    const ranges = new Set(layout.grainLbas.map((l) => Math.floor(l / GT_SPAN_SECTORS)));
    assert.equal(layout.tables.length, ranges.size);
  } finally {
    await cleanup();
  }
});

test('EMPTY_DISK → vmdk: only the grain holding its last-sector marker, in one table', async () => {
  const { layout, cleanup } = await convertAndVerify(EMPTY_DISK);
  try {
    // realistic-disk.ts writes a short line into the last sector of every disk, even the empty one.
    assert.deepEqual(layout.grainLbas, [Math.floor((EMPTY_DISK.size / 512 - 1) / GRAIN_SECTORS) * GRAIN_SECTORS]);
    assert.equal(layout.tables.length, 1);
  } finally {
    await cleanup();
  }
});

test('an all-zero disk → vmdk: no grains, no tables, just head, directory and trailer', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'zeros.raw');
    await writeFile(src, '');
    await truncate(src, 40 * MiB + 512);
    const out = join(dir, 'zeros.vmdk');
    const r = await vmxfer(['convert', src, out, '--to', 'vmdk', '--format', 'raw']);
    assert.equal(r.code, 0, r.stderr);
    await qemuImg(['check', '-f', 'vmdk', out]);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'vmdk', src, out]), /Images are identical/);
    const layout = await walkStream(out);
    assert.equal(layout.grainLbas.length, 0);
    assert.equal(layout.tables.length, 0);
    // 128 sectors of header+descriptor, GD marker + 1 GD sector, footer marker, footer, end-of-stream.
    assert.equal((await stat(out)).size, (128 + 2 + 3) * 512);
    assert.equal(layout.gdSector, 129);
  } finally {
    await cleanup();
  }
});

test('SPARSE_DISK (6 GiB) → vmdk: tables only for the ranges holding data', async () => {
  const { layout, outputBytes, cleanup } = await convertAndVerify(SPARSE_DISK);
  try {
    const ranges = new Set(layout.grainLbas.map((l) => Math.floor(l / GT_SPAN_SECTORS)));
    assert.equal(layout.tables.length, ranges.size);
    assert.ok(layout.tables.length <= 4, `expected a few tables for a mostly empty disk, got ${layout.tables.length}`);
    assert.ok(outputBytes < 16 * MiB, `6 GiB mostly-empty disk became ${outputBytes} bytes`);
  } finally {
    await cleanup();
  }
});

test('random incompressible disk → vmdk: grains stored, output within maxOutputSize', async () => {
  const { layout, outputBytes, cleanup } = await convertAndVerify(RANDOM_DISK);
  try {
    // 16 MiB of random bytes starting 12 KiB into a grain touch 257 grains; the first and last are
    // partly zero (compressible), the 255 between are stored.
    assert.equal(layout.storedGrains, 255);
    assert.ok(outputBytes > 16 * MiB);
  } finally {
    await cleanup();
  }
});

test('disk size not a multiple of 64 KiB → vmdk: the last grain is zero-padded and the size kept', async () => {
  const { layout, cleanup } = await convertAndVerify(ODD_SIZE_DISK);
  try {
    const lastGrainLba = Math.floor((ODD_SIZE_DISK.size / 512 - 1) / GRAIN_SECTORS) * GRAIN_SECTORS;
    assert.equal(layout.grainLbas.at(-1), lastGrainLba, 'the partial last grain holds the tail bytes');
  } finally {
    await cleanup();
  }
});

test('SIGINT mid-conversion leaves neither the output nor its partial file', async () => {
  const src = await buildRealisticDisk(SPARSE_DISK);
  const { dir, cleanup } = await tempDir();
  try {
    const out = join(dir, 'out.vmdk');
    const partial = join(dir, '.out.vmdk.vmxfer-partial');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'convert', src, out, '--to', 'vmdk', '--format', 'raw'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let sawPartial = false;
    for (let i = 0; i < 1000 && child.exitCode === null; i++) {
      const st = await stat(partial).catch(() => undefined);
      if (st && st.size > 64 * 1024) {
        sawPartial = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(sawPartial, 'the conversion ended before it could be interrupted');
    child.kill('SIGINT');
    assert.equal(await exited, 130, 'exit status of a cancelled command');
    assert.equal(existsSync(out), false, 'no output file');
    assert.equal(existsSync(partial), false, 'no partial file');
  } finally {
    await cleanup();
  }
});

test('an aborted signal stops the writer with VMX_ABORTED', async () => {
  const disk = await openDisk(await buildRealisticDisk(SMALL_DISK), { format: 'raw' });
  const controller = new AbortController();
  try {
    await assert.rejects(
      (async () => {
        for await (const _ of streamOptimizedWriter.write(disk, { signal: controller.signal })) controller.abort();
      })(),
      (err) => isVmxferError(err) && err.code === 'VMX_ABORTED',
    );
  } finally {
    await disk.close();
  }
});

test('a zero-byte disk is refused with VMDKW_ZERO_CAPACITY and leaves no file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'empty.raw');
    await writeFile(src, '');
    const r = await vmxfer(['convert', src, join(dir, 'out.vmdk'), '--to', 'vmdk', '--format', 'raw']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /VMDKW_ZERO_CAPACITY/);
    assert.equal(existsSync(join(dir, 'out.vmdk')), false);
  } finally {
    await cleanup();
  }
});

test('a source whose extents leave a gap is refused with VMX_SOURCE_EXTENTS', async () => {
  const gappy: DiskSource = {
    virtualSize: 4 * MiB,
    info: { format: 'test', virtualSize: 4 * MiB, files: [], warnings: [] },
    async *extents(): AsyncGenerator<Extent> {
      yield { kind: 'data', offset: 0, length: 65536, data: Buffer.alloc(65536, 1) };
      yield { kind: 'zero', offset: 131072, length: 4 * MiB - 131072 };
    },
    async close() {},
  };
  await assert.rejects(
    (async () => {
      for await (const _ of streamOptimizedWriter.write(gappy)) void _;
    })(),
    (err) => isVmxferError(err) && err.code === 'VMX_SOURCE_EXTENTS' && /offset 131072/.test(err.message),
  );
});

test('out-of-range writer options are refused with VMDKW_BAD_OPTION', () => {
  for (const opts of [{ compressionLevel: 10 }, { batchBytes: 3 * 65536 }, { adapterType: 'nvme' as never }, { cid: 0xffffffff }]) {
    assert.throws(() => createStreamOptimizedWriter(opts), (err) => isVmxferError(err) && err.code === 'VMDKW_BAD_OPTION', JSON.stringify(opts));
  }
});
