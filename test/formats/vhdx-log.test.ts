import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SMALL_DISK } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuToRaw } from '../helpers/qemu.js';
import { cachedQemuImage, copyInto } from '../helpers/qemu-images.js';
import { tempDir } from '../helpers/tmp.js';
import { buildLogEntry, MiB, VhdxEditor, type LogWriteSpec } from '../helpers/vhdx-edit.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { sha256File } from '../helpers/hash.js';

/**
 * A qemu-made VHDX (empty log) gets a log entry written per [MS-VHDX] §2.3.1 and its headers'
 * LogGuid set. The entry (1) rewrites a payload sector of block 0, (2) zeroes the sector holding the
 * protective MBR, and (3) rewrites the BAT's first sector so that block 1 becomes PAYLOAD_BLOCK_ZERO.
 * The expected content is qemu's raw rendering of the untouched image with those three changes made
 * by the test itself.
 */
interface Prepared {
  image: string;
  expected: string;
  logGuid: Buffer;
  logOffset: number;
  fileSize: number;
  entry: Buffer;
  /** The block the replayed BAT sector turns into PAYLOAD_BLOCK_ZERO. */
  zeroedBlock: number;
  /** File offset of block A's payload. */
  payloadAt: number;
}

/** Indexes of the first `n` FULLY_PRESENT blocks (1 MiB blocks, so block i's entry is BAT entry i below 4096). */
async function firstPresentBlocks(ed: VhdxEditor, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; out.length < n && i < 4096; i++) if ((await ed.batEntry(i)).state === 6) out.push(i);
  assert.equal(out.length, n, 'the image has enough present blocks');
  return out;
}

async function prepare(dir: string): Promise<Prepared> {
  const image = await copyInto(dir, await cachedQemuImage(SMALL_DISK, 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']), 'log.vhdx');
  const oracle = await qemuToRaw(image, dir, 'vhdx');
  const ed = await VhdxEditor.open(image);
  try {
    const header = await ed.currentHeader();
    const logOffset = Number(header.readBigUInt64LE(72));
    const { bat } = await ed.regions();
    const [a, b] = await firstPresentBlocks(ed, 2);
    const blockA = await ed.batEntry(a!);
    const fileSize = await ed.size();
    const pattern = Buffer.alloc(4096, 'log replay wrote this sector. ');
    // Block b's BAT entry (index b: b < ChunkRatio) lives in BAT sector floor(b / 512).
    const batSectorAt = bat.offset + Math.floor(b! / 512) * 4096;
    const batSector = await ed.read(batSectorAt, 4096);
    const at = (b! % 512) * 8;
    batSector.writeBigUInt64LE((batSector.readBigUInt64LE(at) & ~7n) | 2n, at);
    const writes: LogWriteSpec[] = [
      { kind: 'data', fileOffset: blockA.fileOffset + 512 * 1024, data: pattern },
      { kind: 'zero', fileOffset: blockA.fileOffset, length: 4096 },
      { kind: 'data', fileOffset: batSectorAt, data: batSector },
    ];
    const logGuid = randomBytes(16);
    const entry = buildLogEntry({ seq: 7n, tail: 0, logGuid, flushed: fileSize, last: fileSize, writes });
    await ed.write(logOffset, entry);
    await ed.editHeaders((h) => logGuid.copy(h, 48));
    const expected = join(dir, 'expected.raw');
    await copyFile(oracle, expected);
    const ex = await open(expected, 'r+');
    await ex.write(pattern, 0, 4096, a! * MiB + 512 * 1024);
    await ex.write(Buffer.alloc(4096), 0, 4096, a! * MiB);
    await ex.write(Buffer.alloc(MiB), 0, MiB, b! * MiB);
    await ex.close();
    return { image, expected, logGuid, logOffset, fileSize, entry, zeroedBlock: b!, payloadAt: blockA.fileOffset };
  } finally {
    await ed.close();
  }
}

test('vhdx log: a non-empty log is replayed in memory (payload, zero and BAT writes) and the file is not modified', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const p = await prepare(dir);
    const before = await sha256File(p.image);
    const disk = await openDisk(p.image);
    assert.equal(disk.info.details?.['logReplayed'], true);
    assert.equal(disk.info.details?.['logEntriesReplayed'], 1);
    assert.ok(disk.info.warnings.some((w) => w.includes('replayed in memory')));
    const kinds: string[] = [];
    const z = p.zeroedBlock * MiB;
    for await (const r of disk.extents()) if (r.offset < z + MiB && r.offset + r.length > z) kinds.push(r.kind);
    assert.deepEqual(kinds, ['zero'], `block ${p.zeroedBlock} is ZERO after the BAT sector was replayed`);
    await assertSourceMatchesRaw(disk, p.expected);
    await disk.close();
    assert.equal(await sha256File(p.image), before, 'the source file is byte-for-byte unchanged');
  } finally {
    await cleanup();
  }
});

test('vhdx log: a torn entry after the active sequence (bad CRC-32C) is ignored', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const p = await prepare(dir);
    const ed = await VhdxEditor.open(p.image);
    const torn = buildLogEntry({
      seq: 8n,
      tail: 0,
      logGuid: p.logGuid,
      flushed: p.fileSize,
      last: p.fileSize,
      writes: [{ kind: 'data', fileOffset: p.payloadAt + 256 * 1024, data: Buffer.alloc(4096, 'torn write must not be applied ') }],
    });
    torn[torn.length - 100] ^= 0xff; // a byte of the data sector: the CRC no longer matches
    await ed.write(p.logOffset + p.entry.length, torn);
    await ed.close();
    const disk = await openDisk(p.image);
    assert.equal(disk.info.details?.['logEntriesReplayed'], 1);
    await assertSourceMatchesRaw(disk, p.expected);
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('vhdx log: a log whose only entry has a bad CRC-32C cannot be replayed and is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const p = await prepare(dir);
    const ed = await VhdxEditor.open(p.image);
    const broken = Buffer.from(p.entry);
    broken[5] ^= 0x01;
    await ed.write(p.logOffset, broken);
    await ed.close();
    await assertCode(openDisk(p.image), 'VHDX_LOG_NOT_REPLAYABLE', p.image);
  } finally {
    await cleanup();
  }
});

test('vhdx log: a file shorter than the log\'s FlushedFileOffset is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const p = await prepare(dir);
    const ed = await VhdxEditor.open(p.image);
    const entry = buildLogEntry({ seq: 7n, tail: 0, logGuid: p.logGuid, flushed: p.fileSize + MiB, last: p.fileSize + MiB, writes: [{ kind: 'zero', fileOffset: 4 * MiB, length: 4096 }] });
    await ed.write(p.logOffset, Buffer.alloc(p.entry.length));
    await ed.write(p.logOffset, entry);
    await ed.close();
    await assertCode(openDisk(p.image), 'VHDX_LOG_FILE_TRUNCATED', p.image);
  } finally {
    await cleanup();
  }
});

test('vhdx log: a descriptor writing into the headers is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const p = await prepare(dir);
    const ed = await VhdxEditor.open(p.image);
    const entry = buildLogEntry({ seq: 7n, tail: 0, logGuid: p.logGuid, flushed: p.fileSize, last: p.fileSize, writes: [{ kind: 'zero', fileOffset: 64 * 1024, length: 4096 }] });
    await ed.write(p.logOffset, Buffer.alloc(p.entry.length));
    await ed.write(p.logOffset, entry);
    await ed.close();
    await assertCode(openDisk(p.image), 'VHDX_LOG_WRITE_OUT_OF_RANGE', p.image);
  } finally {
    await cleanup();
  }
});

async function assertCode(p: Promise<unknown>, code: string, file: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isVmxferError(err), `typed error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.file, file);
    assert.equal(typeof err.offset, 'number');
    return true;
  });
}
