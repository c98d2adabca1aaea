import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SMALL_DISK, buildRealisticDisk, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { cachedQemuImage } from '../helpers/qemu-images.js';
import { cachedVmdk } from '../helpers/vmdk-fixtures.js';
import { QEMU_MISSING, qemuFromRaw, qemuToRaw } from '../helpers/qemu.js';
import { qemuCreate, qemuIo } from '../helpers/qcow2-images.js';
import { fixtureCacheDir, SHARED_FIXTURES } from '../helpers/tmp.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { gnuTar, fileSize, vmwareStyleOvf } from '../helpers/ova-build.js';
import { buildDifferencingVhd, resealFooter, resealHeader, setBit, SECTOR, type SpecBlock } from '../helpers/vhd-spec.js';
import { guidText, REGION_TABLES } from '../helpers/vhdx-edit.js';
import { zeroedMarkers } from '../helpers/vmdk-markers.js';
import { openDisk } from '../../agent/formats/detect.js';
import { vmdkStreamReader } from '../../agent/formats/vmdk/stream-reader.js';
import { readerConformance, type ReaderCase } from './reader-conformance.js';

/** The small image of every case: no filesystem, random and text regions, a size no format's unit divides. */
const CONF_DISK: RealisticDiskSpec = { name: 'conformance', size: 6 * 1024 * 1024 + 5 * 512, fsMiB: 0, fillFrom: [], randomMiB: 1, textMiB: 1 };
const MiB = 1024 * 1024;

/** qemu-img's raw rendering, cached beside the image. */
async function qemuOracle(image: string, format: string): Promise<string> {
  const out = `${image}.oracle.raw`;
  if (existsSync(out)) return out;
  const made = await qemuToRaw(image, await fixtureCacheDir(), format);
  await rename(made, out);
  return out;
}

/** A cache folder built once by `build` (which writes into the folder it is given). */
async function cachedFolder(name: string, build: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(await fixtureCacheDir(), `conformance-${name}`);
  if (existsSync(dir)) return dir;
  const building = `${dir}.${process.pid}.building`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  await build(building);
  await rename(building, dir).catch(() => rm(building, { recursive: true, force: true }));
  return dir;
}

const seekable = (format?: string) => (image: string, signal?: AbortSignal) => openDisk(image, { format, signal });

// --- hostile headers, one per table a format sizes from its header ---

/** VMDK 5.0 §"Hosted Sparse Extent Header": 2^50 bytes in 1-sector grains, 2^32 grain tables. */
function vmdkHugeTables(b: Buffer): void {
  const at = b.indexOf('KDMV', 0, 'latin1');
  b.writeBigUInt64LE(2n ** 41n, at + 12);
  b.writeBigUInt64LE(1n, at + 20);
}
const VMDK_HOSTILE = [{ name: 'capacity 2^50 bytes in 1-sector grains (2^32 grain tables)', patch: vmdkHugeTables }];

/** VHD spec §"Dynamic Disk Header": Max Table Entries at 28, header checksum at 36. */
function vhdHugeBat(b: Buffer): void {
  const at = Number(b.readBigUInt64BE(16));
  b.writeUInt32BE(0x7fffffff, at + 28);
  resealHeader(b.subarray(at, at + 1024));
}

/**
 * VHD spec §"Hard Disk Footer Format": Current Size at 48 (footer copy at 0 and footer at the end),
 * with Creator Application (28) "win " so the size is read from it, not from qemu's CHS geometry.
 */
function vhdHugeSize(b: Buffer): void {
  for (const at of b.subarray(0, 8).toString('latin1') === 'conectix' ? [0, b.length - 512] : [b.length - 512]) {
    b.write('win ', at + 28, 'latin1');
    b.writeBigUInt64BE(2n ** 50n, at + 40);
    b.writeBigUInt64BE(2n ** 50n, at + 48);
    resealFooter(b.subarray(at, at + 512));
  }
}

/** VHDX §2.6.2.2 Virtual Disk Size 64 TiB in 1 MiB blocks: a 512 MiB BAT in a small region (metadata is not CRC-protected). */
function vhdxHugeDisk(b: Buffer): void {
  const rt = REGION_TABLES[0]!;
  let metadata = -1;
  for (let i = 0; i < b.readUInt32LE(rt + 8); i++) {
    if (guidText(b, rt + 16 + i * 32) === '8B7CA206-4790-4B9A-B8FE-575F050F886E') metadata = Number(b.readBigUInt64LE(rt + 16 + i * 32 + 16));
  }
  for (let i = 0; i < b.readUInt16LE(metadata + 10); i++) {
    const e = metadata + 32 + i * 32;
    const item = metadata + b.readUInt32LE(e + 16);
    if (guidText(b, e) === '2FA54224-CD1B-4876-B211-5DBED83BF4B8') b.writeBigUInt64LE(2n ** 46n, item);
    if (guidText(b, e) === 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B') b.writeUInt32LE(MiB, item);
  }
}

/** qcow2 header: l1_size (u32 at 36), refcount_table_clusters (u32 at 56). */
const QCOW2_HOSTILE = [
  { name: 'l1_size 2^28 entries', patch: (b: Buffer) => void b.writeUInt32BE(0x10000000, 36) },
  { name: 'refcount_table_clusters 2^24', patch: (b: Buffer) => void b.writeUInt32BE(0x01000000, 56) },
];

/** VDICore.h: cBlocks (384) 2^30 with cbDisk (368) to match: a 4 GiB block map. */
function vdiHugeMap(b: Buffer): void {
  b.writeUInt32LE(0x40000000, 384);
  b.writeBigUInt64LE(BigInt(0x40000000) * BigInt(b.readUInt32LE(376)), 368);
}

// --- images ---

function qemuCase(name: string, format: string, options: string[], hostile: ReaderCase['hostile']): ReaderCase {
  return {
    name,
    skip: () => QEMU_MISSING,
    realistic: () => cachedQemuImage(SMALL_DISK, format, options),
    small: () => cachedQemuImage(CONF_DISK, format, options),
    oracle: (image) => qemuOracle(image, format),
    open: seekable(format === 'vpc' ? 'vhd' : format),
    hostile,
  };
}

async function vmwareLayoutStream(spec: RealisticDiskSpec): Promise<string> {
  const dir = await cachedFolder(`vmxfer-stream-${spec.name}`, async (d) => {
    const r = await vmxfer(['convert', await buildRealisticDisk(spec), join(d, 'disk.vmdk'), '--to', 'vmdk', '--format', 'raw', '--no-source-hash']);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  return join(dir, 'disk.vmdk');
}

const asStream = (image: string, signal?: AbortSignal) => vmdkStreamReader.open(createReadStream(image, { highWaterMark: 48 * 1024 }), { name: image, signal });

async function qcow2Chain(spec: RealisticDiskSpec): Promise<string> {
  const dir = await cachedFolder(`qcow2-chain-${spec.name}`, async (d) => {
    await qemuFromRaw(await buildRealisticDisk(spec), join(d, 'base.qcow2'), 'qcow2');
    const top = await qemuCreate(join(d, 'top.qcow2'), ['-b', 'base.qcow2', '-F', 'qcow2']);
    await qemuIo(top, ['write -P 0xab 64k 192k', 'write -z 1M 128k', 'write -P 0x5c 3M 4k', 'discard 5M 64k']);
  });
  return join(dir, 'top.qcow2');
}

/** A differencing VHD built from the spec over a qemu-made dynamic parent; its oracle is the spec's merge rule over qemu's reading of the parent. */
async function vhdDifferencing(spec: RealisticDiskSpec): Promise<string> {
  const dir = await cachedFolder(`vhd-diff-${spec.name}`, async (d) => {
    const parent = await qemuFromRaw(await buildRealisticDisk(spec), join(d, 'parent.vhd'), 'vpc', ['-o', 'subformat=dynamic']);
    const merged = await readFile(await qemuToRaw(parent, d, 'vpc'));
    const file = await readFile(parent);
    const blockSize = MiB;
    const blocks = new Map<number, SpecBlock>();
    for (const [index, sectors] of [[0, [0, 1, 2, 100, 2047]], [1, Array.from({ length: 2048 }, (_, i) => i)], [3, []]] as const) {
      const bitmap = Buffer.alloc(256);
      for (const s of sectors) setBit(bitmap, s);
      const data = randomBytes(blockSize);
      blocks.set(index, { bitmap, data });
      for (const s of sectors) data.copy(merged, index * blockSize + s * SECTOR, s * SECTOR, s * SECTOR + SECTOR);
    }
    const child = buildDifferencingVhd({
      virtualSize: merged.length,
      blockSize,
      parentUniqueId: Buffer.from(file.subarray(file.length - 512 + 68, file.length - 512 + 84)),
      parentName: 'parent.vhd',
      locators: [{ platform: 'W2ru', data: Buffer.from('.\\parent.vhd', 'utf16le') }],
      blocks,
    });
    await writeFile(join(d, 'child.vhd'), child);
    await writeFile(join(d, 'child.vhd.oracle.raw'), merged);
  });
  return join(dir, 'child.vhd');
}

async function ova(spec: RealisticDiskSpec): Promise<string> {
  const dir = await cachedFolder(`ova-${spec.name}`, async (d) => {
    const stage = join(d, 'stage');
    await mkdir(stage);
    await qemuFromRaw(await buildRealisticDisk(spec), join(stage, 'disk1.vmdk'), 'vmdk', ['-o', 'subformat=streamOptimized']);
    await writeFile(join(stage, 'vm.ovf'), vmwareStyleOvf([{ href: 'disk1.vmdk', size: await fileSize(join(stage, 'disk1.vmdk')), capacity: spec.size }]));
    await gnuTar(stage, join(d, 'vm.ova'), ['vm.ovf', 'disk1.vmdk'], 'ustar');
    await rename(join(stage, 'disk1.vmdk'), join(d, 'vm.ova.vmdk'));
    await rm(stage, { recursive: true });
  });
  return join(dir, 'vm.ova');
}

async function sharedVhdx(): Promise<string> {
  const dir = await cachedFolder('shared-disk2vhd', async (d) => {
    await run('sh', ['-c', 'bzip2 -dc "$1" > "$2"', 'sh', join(SHARED_FIXTURES, 'test-disk2vhd.vhdx.bz2'), join(d, 'disk2vhd.vhdx')]);
  });
  return join(dir, 'disk2vhd.vhdx');
}

const CASES: ReaderCase[] = [
  {
    name: 'raw',
    realistic: () => buildRealisticDisk(SMALL_DISK),
    small: () => buildRealisticDisk(CONF_DISK),
    oracle: async (image) => image,
    open: seekable('raw'),
    hostile: [],
    noHostile: 'a raw image has no header or tables',
  },
  qemuCase('vmdk monolithicSparse', 'vmdk', ['-o', 'subformat=monolithicSparse'], VMDK_HOSTILE),
  qemuCase('vmdk streamOptimized (seekable)', 'vmdk', ['-o', 'subformat=streamOptimized'], VMDK_HOSTILE),
  {
    name: 'vmdk streamOptimized as a stream (qemu layout: tables in the head)',
    skip: () => QEMU_MISSING,
    realistic: () => cachedVmdk(SMALL_DISK, 'streamOptimized'),
    small: () => cachedVmdk(CONF_DISK, 'streamOptimized'),
    oracle: (image) => qemuOracle(image, 'vmdk'),
    open: asStream,
    hostile: VMDK_HOSTILE,
    detectsAllDamage: true,
    structural: (b) => zeroedMarkers(b),
  },
  {
    name: 'vmdk streamOptimized as a stream (VMware layout: tables, directory, footer, end-of-stream)',
    skip: () => QEMU_MISSING,
    realistic: () => vmwareLayoutStream(SMALL_DISK),
    small: () => vmwareLayoutStream(CONF_DISK),
    oracle: (image) => qemuOracle(image, 'vmdk'),
    open: asStream,
    hostile: VMDK_HOSTILE,
    detectsAllDamage: true,
    structural: (b) => zeroedMarkers(b),
  },
  {
    name: 'vmdk monolithicFlat (descriptor + flat extent)',
    skip: () => QEMU_MISSING,
    realistic: () => cachedVmdk(SMALL_DISK, 'monolithicFlat'),
    small: () => cachedVmdk(CONF_DISK, 'monolithicFlat'),
    oracle: (image) => qemuOracle(image, 'vmdk'),
    open: seekable('vmdk'),
    hostile: [{ name: 'extent line of 2^40 sectors over a small flat file', patch: (b) => Buffer.from(b.toString('latin1').replace(/^RW \d+ FLAT/m, 'RW 1099511627776 FLAT'), 'latin1') }],
  },
  qemuCase('vhd fixed', 'vpc', ['-o', 'subformat=fixed'], [{ name: 'footer current size 2^50 bytes', patch: vhdHugeSize }]),
  qemuCase('vhd dynamic', 'vpc', ['-o', 'subformat=dynamic'], [
    { name: 'Max Table Entries 2^31-1', patch: vhdHugeBat },
    { name: 'footer current size 2^50 bytes', patch: vhdHugeSize },
  ]),
  {
    name: 'vhd differencing (spec-built child over a qemu dynamic parent; oracle: the spec merge over qemu-img of the parent)',
    skip: () => QEMU_MISSING,
    realistic: () => vhdDifferencing(SMALL_DISK),
    small: () => vhdDifferencing(CONF_DISK),
    oracle: async (image) => `${image}.oracle.raw`,
    open: seekable('vhd'),
    hostile: [{ name: 'Max Table Entries 2^31-1', patch: vhdHugeBat }],
  },
  qemuCase('vhdx dynamic', 'vhdx', [], [{ name: 'virtual size 64 TiB in 1 MiB blocks', patch: vhdxHugeDisk }]),
  qemuCase('vhdx fixed', 'vhdx', ['-o', 'subformat=fixed'], [{ name: 'virtual size 64 TiB in 1 MiB blocks', patch: vhdxHugeDisk }]),
  {
    name: 'vhdx made by Disk2vhd (shared fixture)',
    skip: () => QEMU_MISSING || (existsSync(join(SHARED_FIXTURES, 'test-disk2vhd.vhdx.bz2')) ? false : `shared fixture ${join(SHARED_FIXTURES, 'test-disk2vhd.vhdx.bz2')} is absent`),
    realistic: sharedVhdx,
    small: sharedVhdx,
    oracle: (image) => qemuOracle(image, 'vhdx'),
    open: seekable('vhdx'),
    hostile: [{ name: 'virtual size 64 TiB in 1 MiB blocks', patch: vhdxHugeDisk }],
  },
  qemuCase('qcow2', 'qcow2', [], QCOW2_HOSTILE),
  qemuCase('qcow2 compressed', 'qcow2', ['-c'], QCOW2_HOSTILE),
  {
    name: 'qcow2 backing chain (overlay with data, zero and discard writes over a qcow2 base)',
    skip: () => QEMU_MISSING,
    realistic: () => qcow2Chain(SMALL_DISK),
    small: () => qcow2Chain(CONF_DISK),
    oracle: (image) => qemuOracle(image, 'qcow2'),
    open: seekable('qcow2'),
    hostile: QCOW2_HOSTILE,
  },
  qemuCase('vdi dynamic', 'vdi', [], [{ name: 'cBlocks 2^30 (a 4 GiB block map)', patch: vdiHugeMap }]),
  qemuCase('vdi static', 'vdi', ['-o', 'static=on'], [{ name: 'cBlocks 2^30 (a 4 GiB block map)', patch: vdiHugeMap }]),
  {
    name: 'ova (qemu stream-optimized VMDK in a ustar archive)',
    skip: () => QEMU_MISSING,
    realistic: () => ova(SMALL_DISK),
    small: () => ova(CONF_DISK),
    oracle: (image) => qemuOracle(`${image}.vmdk`, 'vmdk'),
    open: seekable('ova'),
    hostile: VMDK_HOSTILE,
    detectsAllDamage: true,
    structural: (b) => zeroedMarkers(b, b.indexOf('KDMV', 0, 'latin1')),
  },
];

for (const c of CASES) readerConformance(c);
