import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { qemuFromRaw, qemuImg } from '../helpers/qemu.js';
import { SHARED_FIXTURES, tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/run-command.js';
import { openDisk } from '../../agent/formats/detect.js';
import { VmxferError } from '../../agent/core/errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
let dir: string;
let cleanup: () => Promise<void>;
let sparse: string; // qemu monolithicSparse: header, descriptor at 1..20, GD at sector 26, grains from 128
let stream: string; // qemu streamOptimized: the same plus compressed grains with markers
let flatDesc: string;

/** A 4 MiB + 1 KiB disk with data in grains 0, 1, 16 and the last sector. */
before(async () => {
  ({ dir, cleanup } = await tempDir());
  const raw = join(dir, 'src.raw');
  await writeFile(raw, Buffer.alloc(4 * MiB + KiB));
  const fh = await open(raw, 'r+');
  await fh.write(randomBytes(128 * KiB), 0, 128 * KiB, 0);
  await fh.write(Buffer.from('text '.repeat(13000)), 0, 65000, MiB);
  await fh.write(Buffer.from('end'), 0, 3, 4 * MiB + 600);
  await fh.close();
  sparse = await qemuFromRaw(raw, join(dir, 'sparse.vmdk'), 'vmdk', ['-o', 'subformat=monolithicSparse']);
  stream = await qemuFromRaw(raw, join(dir, 'stream.vmdk'), 'vmdk', ['-o', 'subformat=streamOptimized']);
  flatDesc = await qemuFromRaw(raw, join(dir, 'flat.vmdk'), 'vmdk', ['-o', 'subformat=monolithicFlat']);
});
after(() => cleanup());

/** Opens as VMDK and reads every extent: the error may come at open or while reading. */
async function readAll(path: string, parent?: string): Promise<void> {
  const disk = await openDisk(path, { parent, format: 'vmdk' });
  try {
    for await (const _ of disk.extents()) void _;
  } finally {
    await disk.close();
  }
}

async function assertRefused(path: string, code: string, parent?: string): Promise<VmxferError> {
  let caught: unknown;
  await readAll(path, parent).catch((e) => (caught = e));
  assert.ok(caught instanceof VmxferError, `expected ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.file, `error names a file: ${caught.message}`);
  assert.ok(caught.message.includes(caught.file!), caught.message);
  return caught;
}

let n = 0;
/** A copy of `src` with `patch` applied (byte writes at offsets), named uniquely. */
async function patched(src: string, patches: Array<[number, Buffer]>): Promise<string> {
  const out = join(dir, `bad-${n++}.vmdk`);
  await copyFile(src, out);
  const fh = await open(out, 'r+');
  for (const [at, bytes] of patches) await fh.write(bytes, 0, bytes.length, at);
  await fh.close();
  return out;
}

const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };

async function u32At(path: string, at: number): Promise<number> {
  return (await readFile(path)).readUInt32LE(at);
}

test('vmdk error TRUNCATED: a file shorter than its header', async () => {
  const p = await patched(sparse, []);
  await truncate(p, 300);
  const e = await assertRefused(p, 'VMDK_TRUNCATED');
  assert.match(e.message, /300 bytes/);
});

test('vmdk error BAD_MAGIC, UNSUPPORTED_VERSION, NEWLINE_TEST_FAILED: header fields patched', async () => {
  // A byte of the magic changed: read as VMDK, the file is neither a sparse extent nor a descriptor;
  // named as a SPARSE extent by a descriptor, its header is refused.
  const noMagic = await patched(sparse, [[0, Buffer.from('KDMX')]]);
  await assertRefused(noMagic, 'VMDK_BAD_MAGIC').then((e) => assert.match(e.message, /KDMV/));
  const desc = await descriptorWith(`# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="twoGbMaxExtentSparse"\nRW 8194 SPARSE "${noMagic}"\n`);
  await assertRefused(desc, 'VMDK_BAD_MAGIC').then((e) => assert.equal(e.file, noMagic));
  await assertRefused(await patched(sparse, [[4, u32(4)]]), 'VMDK_UNSUPPORTED_VERSION');
  await assertRefused(await patched(sparse, [[75, Buffer.from('\n')]]), 'VMDK_NEWLINE_TEST_FAILED').then((e) => assert.equal(e.offset, 73));
});

test('vmdk error CAPACITY_TOO_LARGE, BAD_GRAIN_SIZE, BAD_GT_SIZE, UNSUPPORTED_COMPRESSION: geometry patched', async () => {
  await assertRefused(await patched(sparse, [[12, u64(2n ** 42n)]]), 'VMDK_CAPACITY_TOO_LARGE');
  await assertRefused(await patched(sparse, [[20, u64(100n)]]), 'VMDK_BAD_GRAIN_SIZE');
  await assertRefused(await patched(sparse, [[20, u64(4096n)]]), 'VMDK_BAD_GRAIN_SIZE');
  await assertRefused(await patched(sparse, [[44, u32(1024)]]), 'VMDK_BAD_GT_SIZE');
  await assertRefused(await patched(stream, [[77, Buffer.from([2, 0])]]), 'VMDK_UNSUPPORTED_COMPRESSION');
});

test('vmdk error GD_OUT_OF_BOUNDS: the grain directory past EOF, on the header, on the descriptor', async () => {
  await assertRefused(await patched(sparse, [[56, u64(1n << 30n)]]), 'VMDK_GD_OUT_OF_BOUNDS');
  await assertRefused(await patched(sparse, [[56, u64(0n)]]), 'VMDK_GD_OUT_OF_BOUNDS');
  await assertRefused(await patched(sparse, [[56, u64(3n)]]), 'VMDK_GD_OUT_OF_BOUNDS').then((e) => assert.match(e.message, /descriptor/));
});

test('vmdk error GT_OUT_OF_BOUNDS: a GD entry pointing past EOF or into the descriptor', async () => {
  const gd = 26 * 512;
  assert.notEqual(await u32At(sparse, gd), 0, 'qemu put the GD at sector 26');
  await assertRefused(await patched(sparse, [[gd, u32(1 << 20)]]), 'VMDK_GT_OUT_OF_BOUNDS');
  await assertRefused(await patched(sparse, [[gd, u32(2)]]), 'VMDK_GT_OUT_OF_BOUNDS').then((e) => assert.equal(e.offset, gd));
});

test('vmdk error GRAIN_OUT_OF_BOUNDS: a GTE past EOF, into metadata, and a file cut inside its grains', async () => {
  const gt = (await u32At(sparse, 26 * 512)) * 512;
  assert.ok((await u32At(sparse, gt)) >= 128, 'grain 0 is allocated after the metadata');
  await assertRefused(await patched(sparse, [[gt, u32(1 << 24)]]), 'VMDK_GRAIN_OUT_OF_BOUNDS');
  await assertRefused(await patched(sparse, [[gt + 4, u32(30)]]), 'VMDK_GRAIN_OUT_OF_BOUNDS');
  // GTE 1 is a zeroed grain only with the header's zeroed-grain flag; without it, it is sector 1.
  await assertRefused(await patched(sparse, [[gt + 4, u32(1)]]), 'VMDK_GRAIN_OUT_OF_BOUNDS');
  const cut = await patched(sparse, []);
  await truncate(cut, 128 * 512 + 100 * KiB);
  await assertRefused(cut, 'VMDK_GRAIN_OUT_OF_BOUNDS');
});

/** The first compressed grain of the qemu stream image: its marker's byte position. */
async function firstGrain(): Promise<number> {
  const buf = await readFile(stream);
  const pos = Number(buf.readBigUInt64LE(64)) * 512; // overHead
  assert.notEqual(buf.readUInt32LE(pos + 8), 0, 'a grain marker starts the data');
  return pos;
}

test('vmdk error BAD_GRAIN_MARKER, CORRUPT_DEFLATE, GRAIN_LENGTH: compressed grains patched', async () => {
  const g = await firstGrain();
  await assertRefused(await patched(stream, [[g, u64(128n)]]), 'VMDK_BAD_GRAIN_MARKER').then((e) => assert.match(e.message, /LBA 128/));
  await assertRefused(await patched(stream, [[g + 8, u32(0xffffffff)]]), 'VMDK_BAD_GRAIN_MARKER');
  await assertRefused(await patched(stream, [[g + 12, Buffer.from([0x00, 0x00])]]), 'VMDK_CORRUPT_DEFLATE');
  const short = deflateSync(Buffer.alloc(1000, 7));
  await assertRefused(await patched(stream, [[g + 8, u32(short.length)], [g + 12, short]]), 'VMDK_GRAIN_LENGTH').then((e) => assert.match(e.message, /1000 bytes/));
  const long = deflateSync(Buffer.alloc(65536 + 512, 7));
  await assertRefused(await patched(stream, [[g + 8, u32(long.length)], [g + 12, long]]), 'VMDK_GRAIN_LENGTH');
});

test('vmdk error BAD_FOOTER: GD_AT_END without a footer', async () => {
  await assertRefused(await patched(stream, [[56, u64(0xffffffffffffffffn)]]), 'VMDK_BAD_FOOTER');
});

async function descriptorWith(text: string): Promise<string> {
  const out = join(dir, `desc-${n++}.vmdk`);
  await writeFile(out, text);
  return out;
}

test('vmdk error MALFORMED_DESCRIPTOR, UNSUPPORTED_EXTENT, MISSING_EXTENT_FILE, EXTENT_TOO_SMALL: descriptors edited', async () => {
  const text = await readFile(flatDesc, 'utf8');
  assert.match(text, /RW \d+ FLAT "flat-flat.vmdk" 0/);
  await assertRefused(await descriptorWith(text.replace('createType=', 'createType\n=')), 'VMDK_MALFORMED_DESCRIPTOR');
  await assertRefused(await descriptorWith(text.replace(/CID=[0-9a-f]+/, 'CID=xyz')), 'VMDK_MALFORMED_DESCRIPTOR');
  await assertRefused(await descriptorWith(text.replace(/createType=.*\n/, '')), 'VMDK_MALFORMED_DESCRIPTOR');
  await assertRefused(await descriptorWith(text.replace(/RW \d+ FLAT "flat-flat.vmdk" 0\n/, '')), 'VMDK_MALFORMED_DESCRIPTOR');
  await assertRefused(await descriptorWith(text.replace(' FLAT ', ' VMFSSPARSE ')), 'VMDK_UNSUPPORTED_EXTENT');
  await assertRefused(await descriptorWith(text.replace(' FLAT ', ' VMFSRDM ')), 'VMDK_UNSUPPORTED_EXTENT');
  await assertRefused(await descriptorWith(text.replace('RW ', 'NOACCESS ')), 'VMDK_UNSUPPORTED_EXTENT');
  await assertRefused(await descriptorWith(text.replace('flat-flat.vmdk', 'nowhere-flat.vmdk')), 'VMDK_MISSING_EXTENT_FILE').then((e) => assert.match(e.message, /nowhere-flat\.vmdk/));
  await copyFile(join(dir, 'flat-flat.vmdk'), join(dir, 'short-flat.vmdk'));
  await truncate(join(dir, 'short-flat.vmdk'), MiB);
  await assertRefused(await descriptorWith(text.replace('flat-flat.vmdk', 'short-flat.vmdk')), 'VMDK_EXTENT_TOO_SMALL');
});

test('vmdk error PARENT_LOOP and MISSING_PARENT: delta chains', async () => {
  const text = await readFile(flatDesc, 'utf8');
  const withParent = (hint: string) => text.replace('parentCID=ffffffff', `parentCID=12345678\nparentFileNameHint="${hint}"`);
  await writeFile(join(dir, 'loop-a.vmdk'), withParent('loop-b.vmdk'));
  await writeFile(join(dir, 'loop-b.vmdk'), withParent('loop-a.vmdk'));
  await assertRefused(join(dir, 'loop-a.vmdk'), 'VMDK_PARENT_LOOP').then((e) => assert.match(e.message, /loop-a\.vmdk -> .*loop-b\.vmdk -> .*loop-a\.vmdk/));
  await writeFile(join(dir, 'self.vmdk'), withParent('self.vmdk'));
  await assertRefused(join(dir, 'self.vmdk'), 'VMDK_PARENT_LOOP');
  await writeFile(join(dir, 'orphan.vmdk'), withParent('gone.vmdk'));
  await assertRefused(join(dir, 'orphan.vmdk'), 'VMDK_MISSING_PARENT').then((e) => assert.match(e.message, /gone\.vmdk/));
  await writeFile(join(dir, 'nohint.vmdk'), text.replace('parentCID=ffffffff', 'parentCID=12345678'));
  await assertRefused(join(dir, 'nohint.vmdk'), 'VMDK_MISSING_PARENT');
  // A qemu-made delta whose base was deleted.
  await copyFile(sparse, join(dir, 'base.vmdk'));
  await qemuImg(['create', '-q', '-f', 'vmdk', '-b', 'base.vmdk', '-F', 'vmdk', join(dir, 'child.vmdk')]);
  await rm(join(dir, 'base.vmdk'));
  await assertRefused(join(dir, 'child.vmdk'), 'VMDK_MISSING_PARENT');
  await assertRefused(join(dir, 'child.vmdk'), 'VMDK_MISSING_PARENT', join(dir, 'also-gone.vmdk'));
});

test('vmdk the fuzzer image afl9.vmdk (huge capacity) is refused fast with little memory', async (t) => {
  const src = join(SHARED_FIXTURES, 'afl9.vmdk.bz2');
  if (!existsSync(src)) return t.skip(`shared fixture ${src} is absent`);
  const img = join(dir, 'afl9.vmdk');
  await run('sh', ['-c', `bzip2 -dc "${src}" > "${img}"`]);
  const rss = process.memoryUsage().rss;
  const t0 = performance.now();
  await assertRefused(img, 'VMDK_CAPACITY_TOO_LARGE');
  assert.ok(performance.now() - t0 < 1000, 'refused within a second');
  assert.ok(process.memoryUsage().rss - rss < 32 * MiB, 'without allocating from the capacity');
});
