import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { inspectGuest, type GuestReport } from '../../agent/guest/inspector.js';
import { VmxferError } from '../../agent/core/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/run-command.js';
import { fatAt, GUEST_TOOLS_MISSING, partitionDisk, peImage, rootTree, toolMissing } from '../helpers/guest-disks.js';

/*
 * Malformed tables and filesystems, each made from a valid one by changing the field a rule checks:
 * every case is a typed error naming the file, the offset and the rule, never a crash, a hang or an
 * allocation sized by the bad field.
 */

const skip = GUEST_TOOLS_MISSING || toolMissing('debugfs');
let dir: string;
let cleanup: () => Promise<void>;
let n = 0;

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-guestbad-'));
});
after(() => cleanup());

async function inspect(path: string): Promise<GuestReport> {
  const d = await openDisk(path);
  try {
    return await inspectGuest(d, path);
  } finally {
    await d.close();
  }
}

async function patch(path: string, edit: (read: (at: number, len: number) => Promise<Buffer>, write: (at: number, b: Buffer) => Promise<void>) => Promise<void>): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await edit(
      async (at, len) => {
        const b = Buffer.alloc(len);
        await fh.read(b, 0, len, at);
        return b;
      },
      async (at, b) => {
        await fh.write(b, 0, b.length, at);
      },
    );
  } finally {
    await fh.close();
  }
}

async function gptDisk(): Promise<string> {
  const path = join(dir, `gpt${++n}.raw`);
  await partitionDisk(path, 16, 'gpt', [{ sizeMiB: 4, type: '8300' }, { sizeMiB: 0, type: '8300' }]);
  return path;
}

/** Rewrites the primary GPT header with `edit` applied and its CRC-32 recomputed (UEFI 2.10 §5.3.2). */
async function editGptHeader(path: string, edit: (h: Buffer) => void, fixEntriesCrc = false): Promise<void> {
  await patch(path, async (read, write) => {
    const h = await read(512, 92);
    if (fixEntriesCrc) {
      const entries = await read(Number(h.readBigUInt64LE(72)) * 512, h.readUInt32LE(80) * h.readUInt32LE(84));
      edit(entries);
      await write(Number(h.readBigUInt64LE(72)) * 512, entries);
      h.writeUInt32LE(crc32(entries), 88);
    } else edit(h);
    h.writeUInt32LE(0, 16);
    h.writeUInt32LE(crc32(h), 16);
    await write(512, h);
  });
}

async function rejects(path: string, code: string, rule: RegExp, offset?: number): Promise<void> {
  await assert.rejects(inspect(path), (e: unknown) => {
    assert.ok(e instanceof VmxferError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, rule);
    assert.equal(e.file, path);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}

test('GPT: a primary header failing its CRC is replaced by the backup (a warning); both failing is GUEST_PARTITION_TABLE', async (t) => {
  if (skip) return t.skip(skip);
  const path = await gptDisk();
  const good = await inspect(path);
  await patch(path, async (read, write) => write(512 + 40, Buffer.from([(await read(512 + 40, 1))[0]! ^ 0xff])));
  const r = await inspect(path);
  assert.deepEqual([r.partitionTable.primaryHeaderOk, r.partitionTable.backupHeaderOk], [false, true]);
  assert.deepEqual(r.partitionTable.partitions, good.partitionTable.partitions);
  assert.match(r.warnings.join('\n'), /primary GPT header .* CRC-32/);
  const size = 16 * 1024 * 1024;
  await patch(path, async (read, write) => write(size - 512 + 40, Buffer.from([(await read(size - 512 + 40, 1))[0]! ^ 0xff])));
  await rejects(path, 'GUEST_PARTITION_TABLE', /both GPT headers/);
});

test('GPT: a primary entry array failing its CRC-32 (a name byte changed) is replaced by the backup array', async (t) => {
  if (skip) return t.skip(skip);
  const path = await gptDisk();
  const good = await inspect(path);
  // Entry 1's name starts at byte 56 of the array at LBA 2.
  await patch(path, async (_r, w) => w(2 * 512 + 56, Buffer.from('X', 'utf16le')));
  const r = await inspect(path);
  assert.deepEqual([r.partitionTable.primaryHeaderOk, r.partitionTable.backupHeaderOk], [false, true]);
  assert.deepEqual(r.partitionTable.partitions, good.partitionTable.partitions);
});

test('GPT: an entry past the last LBA, an entry ending before it starts, and a count of 2^32-1 entries are GUEST_PARTITION_TABLE', async (t) => {
  if (skip) return t.skip(skip);
  const past = await gptDisk();
  await editGptHeader(past, (e) => e.writeBigUInt64LE(1n << 40n, 128 + 40), true);
  await rejects(past, 'GUEST_PARTITION_TABLE', /GPT entry 2 ends at LBA 1099511627776, past the last LBA/);
  const back = await gptDisk();
  await editGptHeader(back, (e) => e.writeBigUInt64LE(10n, 40), true);
  await rejects(back, 'GUEST_PARTITION_TABLE', /GPT entry 1 ends \(LBA 10\) before it starts/);
  const huge = await gptDisk();
  await editGptHeader(huge, (h) => h.writeUInt32LE(0xffffffff, 80));
  const before = process.memoryUsage().rss;
  await rejects(huge, 'GUEST_PARTITION_TABLE', /4294967295 entries of 128 bytes, more than the 1048576-byte bound/);
  assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024, 'no allocation sized by the count');
});

test('MBR: a partition past the end of the disk, and an extended chain that loops, are GUEST_PARTITION_TABLE', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const past = join(dir, 'mbr-past.raw');
  await partitionDisk(past, 16, 'mbr', [{ sizeMiB: 0, type: '83' }]);
  await patch(past, async (_r, w) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(0x00ffffff);
    await w(446 + 12, b);
  });
  await rejects(past, 'GUEST_PARTITION_TABLE', /MBR partition 1 .* ends past the end of the 16777216-byte disk/, 446);
  const loop = join(dir, 'mbr-loop.raw');
  await partitionDisk(loop, 32, 'mbr', [{ sizeMiB: 4, type: '83' }, { sizeMiB: 4, type: '83', logical: true }, { sizeMiB: 4, type: '83', logical: true }]);
  await patch(loop, async (read, write) => {
    const ext = (await read(446 + 16 + 8, 4)).readUInt32LE();
    const firstEbr = await read(ext * 512, 512);
    const second = ext + firstEbr.readUInt32LE(446 + 16 + 8);
    const link = Buffer.alloc(4);
    link.writeUInt32LE(0);
    // The second EBR's link entry points back at the first EBR (offset 0 from the extended partition's start).
    await write(second * 512 + 446 + 16 + 8, link);
    await write(second * 512 + 446 + 16 + 4, Buffer.from([0x05]));
    const count = Buffer.alloc(4);
    count.writeUInt32LE(2048);
    await write(second * 512 + 446 + 16 + 12, count);
  });
  await rejects(loop, 'GUEST_PARTITION_TABLE', /extended partition chain loops back/);
});

test('ext4: an impossible superblock and a directory entry with rec_len 0 are GUEST_FILESYSTEM', async (t) => {
  if (skip) return t.skip(skip);
  const tree = await rootTree(join(dir, 'tree'), undefined, [{ path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }]);
  const sb = join(dir, 'ext-sb.raw');
  await run('truncate', ['-s', '8M', sb]);
  await run('mkfs.ext4', ['-q', '-F', '-d', tree, sb]);
  await patch(sb, async (_r, w) => w(1024 + 40, Buffer.alloc(4)));
  await rejects(sb, 'GUEST_FILESYSTEM', /inodes per group 0/, 1024);
  const dirent = join(dir, 'ext-dir.raw');
  await run('truncate', ['-s', '8M', dirent]);
  await run('mkfs.ext4', ['-q', '-F', '-d', tree, dirent]);
  const block = Number((await run('debugfs', ['-R', 'bmap <2> 0', dirent])).trim());
  const bs = Number(/Block size:\s+(\d+)/.exec(await run('dumpe2fs', ['-h', dirent]))![1]);
  await patch(dirent, async (_r, w) => w(block * bs + 4, Buffer.alloc(2)));
  await rejects(dirent, 'GUEST_FILESYSTEM', /directory inode 2 has an entry at 0 with rec_len 0/);
});

test('FAT: a cluster chain that loops is GUEST_FILESYSTEM, not a hang', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const path = join(dir, 'fat-loop.raw');
  const [p] = await partitionDisk(path, 32, 'mbr', [{ sizeMiB: 0, type: 'ef' }]);
  await fatAt(path, p!, [{ path: '/EFI/BOOT/BOOTX64.EFI', content: Buffer.concat([peImage(0x8664), Buffer.alloc(64 * 1024)]) }], { volumeId: '12345678', bits: 16 }, dir);
  await patch(path, async (read, write) => {
    const bpb = await read(p!.offset, 512);
    const fat = p!.offset + bpb.readUInt16LE(14) * 512;
    // Clusters 2 and 3 are /EFI and /EFI/BOOT; the file starts at 4: its entry now points at itself.
    const self = Buffer.alloc(2);
    self.writeUInt16LE(4);
    await write(fat + 2 * 4, self);
  });
  await rejects(path, 'GUEST_FILESYSTEM', /FAT cluster chain from 4 reaches cluster 4 \(a loop\)/);
});
