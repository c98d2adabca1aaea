import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import { VmxferError } from '../../agent/core/errors.js';
import { inspectGuest } from '../../agent/guest/inspector.js';
import { guestBytes } from '../../agent/guest/byte-source.js';
import { Volume } from '../../agent/guest/volume-probe.js';
import { NtfsReader } from '../../agent/guest/ntfs-reader.js';
import { RegistryHive } from '../../agent/guest/regf-hive.js';
import { tempDir } from '../helpers/tmp.js';
import { ntfsVolume, SERVER_2022, windowsTree, WINDOWS_TOOLS_MISSING } from '../helpers/windows-disk.js';
import { softwareHive } from '../helpers/regf-build.js';

/*
 * Malformed NTFS volumes and registry hives, each made from a valid one (mkntfs + wimapply, the
 * hive generator) by changing the field a check guards: a torn FILE record, a data run past the end,
 * a zero-length attribute, index blocks that loop, an impossible index block size, a hive with a bad
 * checksum or a sub key list claiming more entries than its cell; then 300 random corruptions of
 * the MFT and INDX blocks. Every case is a GUEST_FILESYSTEM error or a report, never a crash or hang.
 */

const skip = WINDOWS_TOOLS_MISSING;
let cleanup: () => Promise<void>;
let image: Buffer;

/** A raw disk in memory with random access, as a raw file reads. */
function memoryRaw(data: Buffer): DiskSource & { readAt(o: number, b: Buffer): Promise<void> } {
  return {
    virtualSize: data.length,
    info: { format: 'raw', virtualSize: data.length, files: [], warnings: [] },
    async *extents() {
      yield { kind: 'data' as const, offset: 0, length: data.length, data };
    },
    async readAt(o: number, b: Buffer) {
      data.copy(b, 0, o, o + b.length);
    },
    async close() {},
  };
}

async function reader(data: Buffer): Promise<NtfsReader> {
  const d = memoryRaw(data);
  return NtfsReader.open(new Volume(await guestBytes(d, 'ntfs.img', { maxCacheBytes: 8 * 1024 * 1024 }), 0, d.virtualSize));
}

const mftOffset = (b: Buffer) => Number(b.readBigUInt64LE(0x30)) * b.readUInt16LE(0x0b) * b[0x0d]!;

/** The byte offset of the FILE record whose $FILE_NAME holds `name` (found by its UTF-16 name, not by the reader under test). */
function recordOf(b: Buffer, name: string): number {
  const at = mftOffset(b);
  const needle = Buffer.from(name, 'utf16le');
  for (let r = at; r < at + 4096 * 1024; r += 1024) {
    if (b.toString('latin1', r, r + 4) === 'FILE' && b.subarray(r, r + 1024).includes(needle)) return r;
  }
  throw new Error(`no record for ${name}`);
}

/** Offset of the first attribute of `type` in the record at `rec` (walked from the header's first-attribute field). */
function attrOf(b: Buffer, rec: number, type: number): number {
  for (let p = rec + b.readUInt16LE(rec + 0x14); b.readUInt32LE(p) !== 0xffffffff; p += b.readUInt32LE(p + 4)) if (b.readUInt32LE(p) === type) return p;
  throw new Error(`no attribute 0x${type.toString(16)}`);
}

/** Writes `bytes` at `off` of the fixed-up INDX/FILE block at `blk`: bytes that fall on a sector's last two go to its update sequence array entry. */
function writeFixedUp(b: Buffer, blk: number, off: number, bytes: Buffer): void {
  const usa = blk + b.readUInt16LE(blk + 4);
  for (let i = 0; i < bytes.length; i++) {
    const o = off + i;
    const sector = Math.floor(o / 512);
    if (o % 512 >= 510) b[usa + 2 * (sector + 1) + (o % 512) - 510] = bytes[i]!;
    else b[blk + o] = bytes[i]!;
  }
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof VmxferError && e.code === 'GUEST_FILESYSTEM' && pattern.test(e.message) && /offset \d+/.test(e.message));
}

before(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('vmxfer-ntfsbad-'));
  if (skip) return;
  const tree = await windowsTree(join(dir, 'tree'), SERVER_2022, { bios: true });
  await ntfsVolume(join(dir, 'ntfs.img'), 24 * 1024 * 1024, tree, 'Windows');
  image = await readFile(join(dir, 'ntfs.img'));
});
after(() => cleanup());

test('malformed NTFS structures: each a GUEST_FILESYSTEM error naming its offset', async (t) => {
  if (skip) return t.skip(skip);
  const sys32 = recordOf(image, 'System32');
  const torn = Buffer.from(image);
  torn[sys32 + 510] ^= 0xff;
  await rejects((await reader(torn)).list('/Windows/System32'), /update sequence check/);

  const pastEnd = Buffer.from(image);
  const kernel = recordOf(image, 'ntoskrnl.exe');
  const data = attrOf(image, kernel, 0x80);
  const runs = data + pastEnd.readUInt16LE(data + 0x20);
  const header = pastEnd[runs]!;
  pastEnd.fill(0x7f, runs + 1 + (header & 0x0f), runs + 1 + (header & 0x0f) + (header >> 4));
  await rejects((await reader(pastEnd)).readFile('/Windows/System32/ntoskrnl.exe', 10), /outside the volume/);

  const zero = Buffer.from(image);
  zero.writeUInt32LE(0, sys32 + zero.readUInt16LE(sys32 + 0x14) + 4);
  await rejects((await reader(zero)).isDirectory('/Windows/System32/config'), /length 0/);

  // INDX blocks (own VCN at 0x10, node header at 0x18): every subnode of a non-leaf block made to point back at the block itself.
  const loop = Buffer.from(image);
  let looped = 0;
  for (let blk = 0; blk < loop.length; blk += 4096) {
    if (loop.toString('latin1', blk, blk + 4) !== 'INDX') continue;
    const own = loop.readBigUInt64LE(blk + 0x10);
    for (let p = blk + 0x18 + loop.readUInt32LE(blk + 0x18); ; p += loop.readUInt16LE(p + 8)) {
      const flags = loop.readUInt16LE(p + 12);
      if (flags & 1) {
        const vcn = Buffer.alloc(8);
        vcn.writeBigUInt64LE(own);
        writeFixedUp(loop, blk, p + loop.readUInt16LE(p + 8) - 8 - blk, vcn);
        looped++;
      }
      if (flags & 2) break;
    }
  }
  assert.ok(looped > 0, 'System32 has a non-leaf INDX block (a B-tree of more than two levels)');
  await rejects((await reader(loop)).list('/Windows/System32'), /loops back to block/);

  const root = attrOf(image, sys32, 0x90);
  const value = root + image.readUInt16LE(root + 0x14);
  const bigBlock = Buffer.from(image);
  bigBlock.writeUInt32LE(0x40000000, value + 8);
  await rejects((await reader(bigBlock)).readFile('/Windows/System32/ntoskrnl.exe', 2), /index block size of 1073741824/);

  const badBoot = Buffer.from(image);
  badBoot.writeBigUInt64LE(1n << 40n, 0x30);
  await rejects(reader(badBoot), /MFT .* lies past the end/);
});

test('malformed registry hives: bad checksum, a sub key list longer than its cell', async (t) => {
  if (skip) return t.skip(skip);
  const hive = softwareHive(SERVER_2022);
  const open = (b: Buffer) => RegistryHive.open(async (o, l) => b.subarray(o, o + l), b.length, 'SOFTWARE');
  const sum = Buffer.from(hive);
  sum[100] ^= 1;
  await rejects(open(sum), /checksum/);
  const list = Buffer.from(hive);
  // The root key's list is written last (children first).
  const lf = list.lastIndexOf('lf', undefined, 'latin1');
  list.writeUInt16LE(0xffff, lf + 2);
  await rejects((await open(list)).string('Microsoft\\Windows NT\\CurrentVersion', 'ProductName'), /sub key list "lf" of 65535 entries/);
});

test('300 random corruptions of the MFT and INDX blocks: each a report or a GUEST_FILESYSTEM error, each under 2 s, memory bounded', async (t) => {
  if (skip) return t.skip(skip);
  let seed = 0x5eed;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const mft = mftOffset(image);
  const indx: number[] = [];
  for (let o = 0; o < image.length; o += 4096) if (image.toString('latin1', o, o + 4) === 'INDX') indx.push(o);
  assert.ok(indx.length > 2, `INDX blocks found: ${indx.length}`);
  const counts = { report: 0, error: 0 };
  const rss = process.memoryUsage().rss;
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(image);
    for (let k = 0; k < 8; k++) {
      const base = rand(2) ? mft + rand(64) * 1024 : indx[rand(indx.length)]!;
      b[base + rand(1024)] = rand(256);
    }
    const started = performance.now();
    try {
      await inspectGuest(memoryRaw(b), `fuzz-${i}`, { maxCacheBytes: 8 * 1024 * 1024 });
      counts.report++;
    } catch (e) {
      assert.ok(e instanceof VmxferError && e.code.startsWith('GUEST_'), `case ${i}: ${String(e)}`);
      counts.error++;
    }
    assert.ok(performance.now() - started < 2000, `case ${i} took ${performance.now() - started} ms`);
  }
  const grown = (process.memoryUsage().rss - rss) / 1024 / 1024;
  console.log(`300 corrupted NTFS volumes: ${counts.report} reports, ${counts.error} typed errors; RSS grew ${grown.toFixed(1)} MiB`);
  assert.ok(grown < 256, `RSS grew ${grown} MiB`);
});
