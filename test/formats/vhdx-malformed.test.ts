import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMALL_DISK } from '../helpers/realistic-disk.js';
import { cachedQemuImage, copyInto } from '../helpers/qemu-images.js';
import { tempDir } from '../helpers/tmp.js';
import { HEADERS, MiB, REGION_TABLES, VhdxEditor } from '../helpers/vhdx-edit.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

const FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
const VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
const LOGICAL_SECTOR_SIZE = '8141BF1D-A96F-4709-BA47-F233A8FAAB5F';

async function firstPresentBlock(ed: VhdxEditor): Promise<{ index: number; fileOffset: number }> {
  for (let i = 0; i < 4096; i++) {
    const e = await ed.batEntry(i);
    if (e.state === 6) return { index: i, fileOffset: e.fileOffset };
  }
  throw new Error('no present block');
}

async function patchItem(ed: VhdxEditor, guid: string, at: number, bytes: Buffer): Promise<void> {
  const item = (await ed.metadataItems()).get(guid)!;
  await ed.write(item.at + at, bytes);
}

const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };

/** Each corruption of a qemu-made dynamic VHDX (1 MiB blocks) and the one code it must produce. */
const CASES: Array<{ name: string; code: string; patch: (ed: VhdxEditor) => Promise<void> }> = [
  { name: 'file type identifier', code: 'VHDX_BAD_SIGNATURE', patch: (ed) => ed.write(0, Buffer.from('vhdxfilX')) },
  {
    name: 'bad CRC-32C on both headers',
    code: 'VHDX_NO_VALID_HEADER',
    patch: async (ed) => { for (const at of HEADERS) await ed.write(at + 200, Buffer.from([0x5a])); },
  },
  {
    name: 'equal sequence numbers, different content',
    code: 'VHDX_HEADERS_CONFLICT',
    patch: async (ed) => {
      await ed.editHeaders((h) => h.writeBigUInt64LE(5n, 8));
      await ed.write(HEADERS[1]! + 16, Buffer.from([1, 2, 3, 4]));
      await ed.fixCrc(HEADERS[1]!, 4096);
    },
  },
  { name: 'header version 2', code: 'VHDX_BAD_HEADER_FIELD', patch: (ed) => ed.editHeaders((h) => h.writeUInt16LE(2, 66)) },
  {
    name: 'bad CRC-32C on both region tables',
    code: 'VHDX_BAD_REGION_TABLE',
    patch: async (ed) => { for (const at of REGION_TABLES) await ed.write(at + 40, Buffer.from([0xee])); },
  },
  {
    name: 'BAT region past EOF',
    code: 'VHDX_BAD_REGION_ENTRY',
    patch: async (ed) => {
      const pastEof = u64(BigInt(Math.ceil((await ed.size()) / MiB) * MiB + 8 * MiB));
      for (const entry of [0, 1]) await ed.write(REGION_TABLES[0]! + 16 + entry * 32 + 16, pastEof); // FileOffset of both entries
      await ed.fixCrc(REGION_TABLES[0]!, 64 * 1024);
    },
  },
  { name: 'metadata table signature', code: 'VHDX_BAD_METADATA_TABLE', patch: async (ed) => ed.write((await ed.regions()).metadata.offset, Buffer.from('metadatX')) },
  { name: 'block size 3 MiB (not a power of two)', code: 'VHDX_BAD_BLOCK_SIZE', patch: (ed) => patchItem(ed, FILE_PARAMETERS, 0, u32(3 * MiB)) },
  { name: 'block size 512 KiB (below 1 MiB)', code: 'VHDX_BAD_BLOCK_SIZE', patch: (ed) => patchItem(ed, FILE_PARAMETERS, 0, u32(MiB / 2)) },
  { name: 'block size 512 MiB (above 256 MiB)', code: 'VHDX_BAD_BLOCK_SIZE', patch: (ed) => patchItem(ed, FILE_PARAMETERS, 0, u32(512 * MiB)) },
  { name: 'logical sector size 1024', code: 'VHDX_BAD_SECTOR_SIZE', patch: (ed) => patchItem(ed, LOGICAL_SECTOR_SIZE, 0, u32(1024)) },
  { name: 'virtual size 2^60 bytes', code: 'VHDX_BAD_VIRTUAL_SIZE', patch: (ed) => patchItem(ed, VIRTUAL_DISK_SIZE, 0, u64(1n << 60n)) },
  { name: 'virtual size 60 TiB for a 1 MiB BAT region', code: 'VHDX_BAT_TOO_SMALL', patch: (ed) => patchItem(ed, VIRTUAL_DISK_SIZE, 0, u64(60n << 40n)) },
  {
    name: 'BAT entry past EOF',
    code: 'VHDX_BAT_ENTRY_PAST_EOF',
    patch: async (ed) => ed.setBatEntry((await firstPresentBlock(ed)).index, 6, Math.ceil((await ed.size()) / MiB) * MiB + 64 * MiB),
  },
  {
    name: 'BAT entry overlapping the metadata region',
    code: 'VHDX_BAT_ENTRY_OVERLAPS_METADATA',
    patch: async (ed) => ed.setBatEntry((await firstPresentBlock(ed)).index, 6, (await ed.regions()).metadata.offset),
  },
  {
    name: 'BAT entry in the header section',
    code: 'VHDX_BAT_ENTRY_OVERLAPS_METADATA',
    patch: async (ed) => ed.setBatEntry((await firstPresentBlock(ed)).index, 6, 0),
  },
  {
    name: 'PARTIALLY_PRESENT block in a disk without a parent',
    code: 'VHDX_BAD_BAT_ENTRY',
    patch: async (ed) => { const b = await firstPresentBlock(ed); await ed.setBatEntry(b.index, 7, b.fileOffset); },
  },
  {
    name: 'reserved payload state 4',
    code: 'VHDX_BAD_BAT_ENTRY',
    patch: async (ed) => { const b = await firstPresentBlock(ed); await ed.setBatEntry(b.index, 4, b.fileOffset); },
  },
];

for (const c of CASES) {
  test(`vhdx malformed: ${c.name} -> ${c.code}`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const image = await patched(dir, c.patch);
      await assert.rejects(openDisk(image, { format: 'vhdx' }), (err: unknown) => {
        assert.ok(isVmxferError(err), `typed error, got ${String(err)}`);
        assert.equal(err.code, c.code, err.message);
        assert.equal(err.file, image, 'the message names the file');
        assert.equal(typeof err.offset, 'number', `the message names the offset: ${err.message}`);
        return true;
      });
    } finally {
      await cleanup();
    }
  });
}

test('vhdx: one corrupt header or region table copy falls back to the other and reads correctly', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const pristine = await cachedQemuImage(SMALL_DISK, 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']);
    const image = await patched(dir, async (ed) => {
      const seqs = await Promise.all(HEADERS.map(async (h) => (await ed.read(h, 16)).readBigUInt64LE(8)));
      const current = seqs[0]! >= seqs[1]! ? HEADERS[0]! : HEADERS[1]!;
      await ed.write(current + 300, Buffer.from([0x77])); // the current header's CRC breaks: the older one must be used
      await ed.write(REGION_TABLES[0]! + 40, Buffer.from([0xee]));
    });
    const a = await openDisk(image, { format: 'vhdx' });
    const b = await openDisk(pristine, { format: 'vhdx' });
    assert.ok(a.info.warnings.some((w) => w.includes('backup copy')), a.info.warnings.join('; '));
    const ea = a.extents()[Symbol.asyncIterator]();
    for await (const eb of b.extents()) {
      const r = await ea.next();
      assert.ok(!r.done);
      assert.deepEqual({ k: r.value.kind, o: r.value.offset, l: r.value.length }, { k: eb.kind, o: eb.offset, l: eb.length });
      if (eb.kind === 'data' && r.value.kind === 'data') assert.ok(eb.data.equals(r.value.data), `data at ${eb.offset}`);
    }
    await Promise.all([a.close(), b.close()]);
  } finally {
    await cleanup();
  }
});

async function patched(dir: string, patch: (ed: VhdxEditor) => Promise<void>): Promise<string> {
  const image = await copyInto(dir, await cachedQemuImage(SMALL_DISK, 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']), 'bad.vhdx');
  const ed = await VhdxEditor.open(image);
  try {
    await patch(ed);
  } finally {
    await ed.close();
  }
  return image;
}
