import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { copyFile, open, writeFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { qemuFromRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { l2TableOffset, qemuCreate, qemuIo, readLayout, readU64, u32, u64, writeBytes } from '../helpers/qcow2-images.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

let dir: string;
let cleanup: () => Promise<void>;
/** 4 MiB v3 image, 64 KiB clusters, data at guest 0 and 1 MiB. */
let plain: string;
/** The same data, zlib-compressed clusters. */
let packed: string;
let seq = 0;

const COPIED = 1n << 63n;

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-qcow2-bad-'));
  plain = join(dir, 'plain.qcow2');
  await qemuCreate(plain, [], 4 * 1024 * 1024);
  await qemuIo(plain, ['write -P 0x61 0 65536', 'write -P 0x62 1048576 65536']);
  const raw = join(dir, 'text.raw');
  const words = ['disk', 'image', 'cluster', 'qcow2', 'refcount', 'table', 'backing'];
  let text = '';
  while (text.length < 4 * 65536) text += words[randomInt(words.length)] + (randomInt(9) ? ' ' : '\n');
  await writeFile(raw, text.slice(0, 4 * 65536));
  packed = await qemuFromRaw(raw, join(dir, 'packed.qcow2'), 'qcow2', ['-c']);
});
after(() => cleanup());

async function copyOf(image: string): Promise<string> {
  const path = join(dir, `case-${seq++}.qcow2`);
  await copyFile(image, path);
  return path;
}

/** Opening and reading every extent must fail with `code` (and a message matching `message`). */
async function assertRefused(path: string, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(
    async () => {
      const disk = await openDisk(path);
      try {
        for await (const e of disk.extents()) void e;
      } finally {
        await disk.close();
      }
    },
    (err: unknown) => {
      assert.ok(isVmxferError(err), `not a VmxferError: ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (message) assert.match(err.message, message);
      assert.match(err.message, new RegExp(path.split('/').pop()!.replace('.', '\\.')), 'the message names the file');
      return true;
    },
  );
}

async function setByte(path: string, at: number, fn: (b: number) => number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = fn(b[0]!);
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

test('incompatible feature bits: dirty, corrupt, unknown bit each refused with their own code', async () => {
  const dirty = await copyOf(plain);
  await setByte(dirty, 79, (b) => b | 1);
  await assertRefused(dirty, 'QCOW2_DIRTY', /qemu-img check -r all/);
  const corrupt = await copyOf(plain);
  await setByte(corrupt, 79, (b) => b | 2);
  await assertRefused(corrupt, 'QCOW2_CORRUPT', /corrupt/);
  const unknown = await copyOf(plain);
  await setByte(unknown, 78, (b) => b | 2);
  await assertRefused(unknown, 'QCOW2_UNKNOWN_INCOMPATIBLE', /bit 9/);
});

test('header fields out of range: cluster_bits, compression type, L1 size, virtual size, magic', async () => {
  for (const bits of [8, 22]) {
    const p = await copyOf(plain);
    await writeBytes(p, 20, u32(bits));
    await assertRefused(p, 'QCOW2_CLUSTER_BITS', new RegExp(`cluster_bits ${bits}`));
  }
  const ctype = await copyOf(plain);
  await setByte(ctype, 104, () => 1);
  await assertRefused(ctype, 'QCOW2_COMPRESSION_TYPE');
  const hugeL1 = await copyOf(plain);
  await writeBytes(hugeL1, 36, u32(0xffffffff));
  await assertRefused(hugeL1, 'QCOW2_L1_SIZE', /exceeds/);
  const noL1 = await copyOf(plain);
  await writeBytes(noL1, 36, u32(0));
  await assertRefused(noL1, 'QCOW2_L1_SIZE', /too small/);
  const huge = await copyOf(plain);
  await writeBytes(huge, 24, u64(1n << 60n));
  await assertRefused(huge, 'QCOW2_VIRTUAL_SIZE');
  await assert.rejects(openDisk(join(dir, 'text.raw'), { format: 'qcow2' }), (err: unknown) => isVmxferError(err) && err.code === 'QCOW2_BAD_MAGIC');
});

test('L1 entries: past EOF, into the L1 table, into the refcount table, unaligned', async () => {
  const l = await readLayout(plain);
  const l2 = await l2TableOffset(plain);
  const cases: Array<[bigint, string]> = [
    [(1n << 40n) | COPIED, 'QCOW2_L2_PAST_EOF'],
    [BigInt(l.l1Offset) | COPIED, 'QCOW2_L2_IN_METADATA'],
    [BigInt(l.refcountTableOffset) | COPIED, 'QCOW2_L2_IN_METADATA'],
    [BigInt(l2 + 512) | COPIED, 'QCOW2_L2_UNALIGNED'],
  ];
  for (const [entry, code] of cases) {
    const p = await copyOf(plain);
    await writeBytes(p, l.l1Offset, u64(entry));
    await assertRefused(p, code);
  }
});

test('L2 entries: data past EOF, into the header/L1/refcount table, unaligned, reserved bits', async () => {
  const l = await readLayout(plain);
  const l2 = await l2TableOffset(plain);
  const original = await readU64(plain, l2);
  const host = original & 0x00fffffffffffe00n;
  const cases: Array<[bigint, string]> = [
    [(1n << 40n) | COPIED, 'QCOW2_DATA_PAST_EOF'],
    [BigInt(l.l1Offset) | COPIED, 'QCOW2_DATA_IN_METADATA'],
    [BigInt(l.refcountTableOffset) | COPIED, 'QCOW2_DATA_IN_METADATA'],
    [(host + 512n) | COPIED, 'QCOW2_DATA_UNALIGNED'],
    [original | 4n, 'QCOW2_BAD_L2_ENTRY'],
  ];
  for (const [entry, code] of cases) {
    const p = await copyOf(plain);
    await writeBytes(p, l2, u64(entry));
    await assertRefused(p, code);
  }
});

test('extended L2: a subcluster both allocated and zero is refused', async () => {
  const ext = join(dir, 'ext.qcow2');
  await qemuCreate(ext, ['-o', 'extended_l2=on'], 4 * 1024 * 1024);
  await qemuIo(ext, ['write -P 0x61 0 4096']);
  const l2 = await l2TableOffset(ext);
  await writeBytes(ext, l2 + 8, u64((1n << 32n) | 1n));
  await assertRefused(ext, 'QCOW2_BAD_L2_ENTRY', /both allocated and reading as zero/);
});

test('compressed clusters: cut short by the end of the file, or garbage', async () => {
  const l2 = await l2TableOffset(packed);
  const entry = await readU64(packed, l2);
  assert.equal((entry >> 62n) & 1n, 1n, 'fixture: first cluster is compressed');
  const x = 62n - (16n - 8n);
  const host = Number(entry & ((1n << x) - 1n));
  const sectors = Number((entry >> x) & 0xffn) + 1;
  const length = sectors * 512 - (host % 512);
  const truncated = await copyOf(packed);
  const size = (await readLayout(truncated)).fileSize;
  const at = Math.ceil(size / 512) * 512;
  const fh = await open(truncated, 'r+');
  try {
    const data = Buffer.alloc(length);
    await fh.read(data, 0, length, host);
    // Move the cluster's stream to the end of the file, keep only its first half.
    await fh.write(data.subarray(0, length >> 1), 0, length >> 1, at);
  } finally {
    await fh.close();
  }
  const moved = (1n << 62n) | (BigInt(Math.ceil(length / 512) - 1) << x) | BigInt(at);
  await writeBytes(truncated, l2, u64(moved));
  await assertRefused(truncated, 'QCOW2_COMPRESSED_TRUNCATED', /ends \d+ bytes before/);
  const garbage = await copyOf(packed);
  await writeBytes(garbage, host, Buffer.alloc(64, 0xff));
  await assertRefused(garbage, 'QCOW2_COMPRESSED_CORRUPT');
});

test('backing chains: two images naming each other, and a missing backing file', async () => {
  const a = join(dir, 'loop-a.qcow2');
  const b = join(dir, 'loop-b.qcow2');
  await qemuCreate(a, ['-u', '-b', 'loop-b.qcow2', '-F', 'qcow2'], 1024 * 1024);
  await qemuCreate(b, ['-u', '-b', 'loop-a.qcow2', '-F', 'qcow2'], 1024 * 1024);
  await assertRefused(a, 'QCOW2_BACKING_LOOP', /loop/);
  const orphan = join(dir, 'orphan.qcow2');
  await qemuCreate(orphan, ['-u', '-b', 'gone.qcow2', '-F', 'qcow2'], 1024 * 1024);
  await assertRefused(orphan, 'QCOW2_BACKING_MISSING', /gone\.qcow2/);
});
