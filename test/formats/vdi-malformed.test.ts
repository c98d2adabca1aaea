import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { SMALL_DISK } from '../helpers/realistic-disk.js';
import { cachedQemuImage, copyInto } from '../helpers/qemu-images.js';
import { tempDir } from '../helpers/tmp.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

/** Each corruption of a qemu-made dynamic VDI, and the one code it must produce. */
const CASES: Array<{ name: string; code: string; patch: (h: Buffer) => Array<[number, Buffer]> }> = [
  { name: 'bad signature', code: 'VDI_BAD_SIGNATURE', patch: () => [[64, u32(0xbeda1070)]] },
  { name: 'version 1.0', code: 'VDI_UNSUPPORTED_VERSION', patch: () => [[68, u32(0x00010000)]] },
  { name: 'image type 4 (differencing)', code: 'VDI_UNSUPPORTED_IMAGE_TYPE', patch: () => [[76, u32(4)]] },
  // qemu-img refuses these too (block/vdi.c: "non-NULL link UUID" / "non-NULL parent UUID").
  { name: 'parent link UUID set (differencing)', code: 'VDI_DIFFERENCING', patch: () => [[424, Buffer.from('0123456789abcdef0123456789abcdef', 'hex')]] },
  { name: 'parent modification UUID set (differencing)', code: 'VDI_DIFFERENCING', patch: () => [[440, Buffer.from('fedcba9876543210fedcba9876543210', 'hex')]] },
  { name: 'block size not a power of two', code: 'VDI_BAD_BLOCK_SIZE', patch: () => [[376, u32(3 * 1024 * 1024)]] },
  { name: 'sector size 4096', code: 'VDI_BAD_SECTOR_SIZE', patch: () => [[360, u32(4096)]] },
  { name: 'disk size beyond its blocks', code: 'VDI_BAD_BLOCK_COUNT', patch: (h) => [[368, u64(BigInt(h.readUInt32LE(384) + 1) * 1048576n)]] },
  { name: 'block map offset past EOF', code: 'VDI_BAD_OFFSETS', patch: () => [[340, u32(0x7ffffe00)]] },
  // cBlocksAllocated raised to cBlocks so only the file's end is broken: entry 0 names the last possible block.
  { name: 'block map entry past EOF', code: 'VDI_BLOCK_PAST_EOF', patch: (h) => [[388, u32(h.readUInt32LE(384))], [h.readUInt32LE(340), u32(h.readUInt32LE(384) - 1)]] },
  { name: 'block map entry beyond cBlocksAllocated', code: 'VDI_BLOCK_PAST_EOF', patch: (_h) => [[388, u32(1)]] },
];

for (const c of CASES) {
  test(`vdi malformed: ${c.name} -> ${c.code}`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const image = await copyInto(dir, await cachedQemuImage(SMALL_DISK, 'vdi', []));
      const fh = await open(image, 'r+');
      const header = Buffer.alloc(512);
      await fh.read(header, 0, 512, 0);
      for (const [at, bytes] of c.patch(header)) await fh.write(bytes, 0, bytes.length, at);
      await fh.close();
      await assert.rejects(openDisk(image, { format: 'vdi' }), (err: unknown) => {
        assert.ok(isVmxferError(err), `typed error, got ${String(err)}`);
        assert.equal(err.code, c.code, err.message);
        assert.equal(err.file, image, 'the message names the file');
        assert.equal(typeof err.offset, 'number', 'the message names the offset');
        return true;
      });
    } finally {
      await cleanup();
    }
  });
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}
