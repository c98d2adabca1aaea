import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SMALL_DISK, buildRealisticDisk } from '../helpers/realistic-disk.js';
import { fixtureCacheDir, tempDir } from '../helpers/tmp.js';
import { cachedVmdk } from '../helpers/vmdk-fixtures.js';
import { vmxfer } from '../helpers/run-command.js';
import { streamMarkers } from '../helpers/vmdk-markers.js';
import { fileSize, gnuTar, vmwareStyleOvf } from '../helpers/ova-build.js';
import { vmdkStreamReader } from '../../agent/formats/vmdk/stream-reader.js';
import { EXIT_CODES, VmxferError } from '../../agent/core/errors.js';

/**
 * Structural corruption of a stream-optimized VMDK read as a stream (VMDK 5.0 §"Stream-Optimized
 * Compressed Sparse Extents"): every damaged marker, table, directory, footer or end-of-stream marker
 * is a typed error, in qemu-img's layout (tables in the head, no footer) and in VMware's (tables after
 * their grains, directory, footer, end-of-stream marker, as vmxfer writes). Never a disk of zeros.
 */

async function vmwareLayoutVmdk(): Promise<string> {
  const out = join(await fixtureCacheDir(), 'vmdk-corruption-vmxfer-stream.vmdk');
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.building`;
  const r = await vmxfer(['convert', await buildRealisticDisk(SMALL_DISK), tmp, '--to', 'vmdk', '--format', 'raw', '--no-source-hash']);
  assert.equal(r.code, 0, r.stderr);
  await rename(tmp, out);
  return out;
}

async function readAll(bytes: Buffer): Promise<number> {
  const disk = await vmdkStreamReader.open(Readable.from(chunks(bytes)), { name: 'in.vmdk' });
  let data = 0;
  for await (const e of disk.extents()) if (e.kind === 'data') data += e.length;
  return data;
}

function* chunks(bytes: Buffer): Generator<Buffer> {
  for (let p = 0; p < bytes.length; p += 40000) yield bytes.subarray(p, p + 40000);
}

async function refused(bytes: Buffer, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(readAll(bytes), (e: unknown) => {
    assert.ok(e instanceof VmxferError, `expected ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, /^in\.vmdk/);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function patched(image: Buffer, edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(image);
  edit(b);
  return b;
}

test('vmdk stream, VMware layout (directory, footer, end-of-stream marker): a zeroed or garbled grain marker, table, directory, footer or EOS is a typed error', async () => {
  const image = await readFile(await vmwareLayoutVmdk());
  assert.ok((await readAll(image)) > 0, 'the intact stream reads');
  const all = streamMarkers(image);
  const grains = all.filter((m) => m.size > 0);
  const tables = all.filter((m) => m.size === 0 && m.type === 1);
  const gd = all.find((m) => m.size === 0 && m.type === 2)!;
  const footer = all.find((m) => m.size === 0 && m.type === 3)!;
  const eos = all.at(-1)!;
  assert.ok(grains.length > 100 && tables.length >= 2 && eos.type === 0, 'a stream with several tables');
  const mid = grains[Math.floor(grains.length / 2)]!;
  await refused(patched(image, (b) => b.fill(0, mid.pos, mid.pos + 16)), 'VMDK_PREMATURE_END', /before the grain directory and footer/);
  await refused(patched(image, (b) => b.fill(0, mid.pos, mid.pos + 512)), 'VMDK_PREMATURE_END');
  // Size and type zeroed, LBA left: an end-of-stream marker whose val is not 0 is no marker at all.
  await refused(patched(image, (b) => b.fill(0, mid.pos + 8, mid.pos + 16)), 'VMDK_BAD_MARKER');
  const used = Array.from({ length: 512 }, (_, j) => tables[0]!.pos + 512 + 4 * j).find((p) => image.readUInt32LE(p) > 1)!;
  await refused(patched(image, (b) => b.writeUInt32LE(b.readUInt32LE(used) + 1, used)), 'VMDK_GRAIN_TABLE_MISMATCH', /at other sectors or LBAs/);
  const unused = Array.from({ length: 512 }, (_, j) => tables[0]!.pos + 512 + 4 * j).find((p) => image.readUInt32LE(p) === 0);
  if (unused !== undefined) await refused(patched(image, (b) => b.writeUInt32LE(1, unused)), 'VMDK_GRAIN_TABLE_MISMATCH');
  await refused(patched(image, (b) => b.fill(0, tables[0]!.pos + 512, tables[0]!.pos + 1024)), 'VMDK_GRAIN_TABLE_MISMATCH');
  await refused(patched(image, (b) => b.writeUInt32LE(5, tables[0]!.pos)), 'VMDK_BAD_MARKER', /grain table marker says 5 sectors/);
  await refused(patched(image, (b) => b.writeUInt32LE(b.readUInt32LE(gd.pos + 512) + 1, gd.pos + 512)), 'VMDK_GRAIN_TABLE_MISMATCH', /grain directory entry 0/);
  await refused(patched(image, (b) => b.fill(0, gd.pos + 512, gd.pos + 516)), 'VMDK_GRAIN_TABLE_MISMATCH', /is in no grain directory entry/);
  await refused(patched(image, (b) => b.writeBigUInt64LE(b.readBigUInt64LE(footer.pos + 512 + 12) + 128n, footer.pos + 512 + 12)), 'VMDK_BAD_FOOTER', /capacitySectors/);
  await refused(patched(image, (b) => b.writeBigUInt64LE(BigInt(gd.pos / 512), footer.pos + 512 + 56)), 'VMDK_BAD_FOOTER', /gdOffset/);
  await refused(patched(image, (b) => b.fill(0, footer.pos + 512, footer.pos + 516)), 'VMDK_BAD_FOOTER');
  await refused(patched(image, (b) => b.fill(0, footer.pos, footer.pos + 1024)), 'VMDK_PREMATURE_END');
  await refused(patched(image, (b) => b.writeUInt32LE(7, eos.pos + 12)), 'VMDK_MISSING_EOS');
  await refused(patched(image, (b) => b.writeUInt32LE(2, eos.pos)), 'VMDK_MISSING_EOS');
  await refused(image.subarray(0, eos.pos), 'VMDK_MISSING_EOS');
});

test('vmdk stream, qemu-img layout (tables in the head, no footer): a zeroed grain marker, a moved or dropped grain is a typed error, not the end', async () => {
  const image = await readFile(await cachedVmdk(SMALL_DISK, 'streamOptimized'));
  const grains = streamMarkers(image).filter((m) => m.size > 0);
  const mid = grains[Math.floor(grains.length / 2)]!;
  await refused(patched(image, (b) => b.fill(0, mid.pos, mid.pos + 16)), 'VMDK_GRAIN_TABLE_MISMATCH', /after \d+ grains, but the grain tables list \d+/);
  await refused(patched(image, (b) => b.fill(0, mid.pos, mid.pos + 512)), 'VMDK_GRAIN_TABLE_MISMATCH');
  // The head's table entry for the middle grain names another sector: the count agrees, the place does not.
  const gdAt = Number(image.readBigUInt64LE(56)) * 512;
  const gt0 = image.readUInt32LE(gdAt) * 512;
  const entry = Array.from({ length: 512 }, (_, j) => gt0 + 4 * j).find((p) => image.readUInt32LE(p) > 1)!;
  await refused(patched(image, (b) => b.writeUInt32LE(b.readUInt32LE(entry) + 1, entry)), 'VMDK_GRAIN_TABLE_MISMATCH', /at other sectors or LBAs/);
});

test('vmdk stream: a hostile header declaring billions of grain tables is refused before anything is allocated', async () => {
  const image = Buffer.from(await readFile(await cachedVmdk(SMALL_DISK, 'streamOptimized')));
  image.writeBigUInt64LE(2n ** 41n, 12); // capacity 1 PiB
  image.writeBigUInt64LE(1n, 20); // grains of one sector
  image.writeUInt32LE(1, 44); // one entry per table: 2^41 tables
  const before = process.memoryUsage().rss;
  await refused(image, 'VMDK_TABLE_TOO_LARGE');
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
});

/** An OVA around `vmdk` without a manifest, so nothing but the VMDK reader can notice the damage. */
async function ovaAround(dir: string, vmdk: Buffer, capacity: number): Promise<string> {
  const stage = join(dir, 'stage');
  await mkdir(stage, { recursive: true });
  await writeFile(join(stage, 'vm-disk1.vmdk'), vmdk);
  await writeFile(join(stage, 'vm.ovf'), vmwareStyleOvf([{ href: 'vm-disk1.vmdk', size: await fileSize(join(stage, 'vm-disk1.vmdk')), capacity }]));
  return gnuTar(stage, join(dir, 'vm.ova'), ['vm.ovf', 'vm-disk1.vmdk'], 'ustar');
}

test('CLI: a zeroed grain marker in a VMDK inside an OVA (convert, upload --as vhd) and in a VMDK object (download --to raw) exits 3 with the code, not a disk of zeros', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    for (const [label, image, code] of [
      ['vmware', await readFile(await vmwareLayoutVmdk()), 'VMDK_PREMATURE_END'],
      ['qemu', await readFile(await cachedVmdk(SMALL_DISK, 'streamOptimized')), 'VMDK_GRAIN_TABLE_MISMATCH'],
    ] as const) {
      const grains = streamMarkers(image).filter((m) => m.size > 0);
      const mid = grains[Math.floor(grains.length / 2)]!;
      const bad = patched(image, (b) => b.fill(0, mid.pos, mid.pos + 512));
      const sub = join(dir, label);
      await mkdir(sub);
      const ova = await ovaAround(sub, bad, SMALL_DISK.size);
      const conv = await vmxfer(['convert', ova, join(sub, 'out.raw'), '--to', 'raw', '--no-source-hash']);
      assert.equal(conv.code, EXIT_CODES['invalid-input'], `${label} OVA convert: ${conv.stderr}`);
      assert.match(conv.stderr, new RegExp(`\\[${code}\\]`));
      const bucket = join(sub, 'bucket');
      await mkdir(bucket);
      const up = await vmxfer(['upload', ova, `file://${bucket}/vm.vhd`, '--as', 'vhd', '--state-dir', join(sub, 'state')]);
      assert.equal(up.code, EXIT_CODES['invalid-input'], `${label} OVA upload --as vhd: ${up.stderr}`);
      assert.match(up.stderr, new RegExp(`\\[${code}\\]`));
      assert.ok(!existsSync(join(bucket, 'vm.vhd')), 'no object was completed from the damaged disk');
      await writeFile(join(bucket, 'disk.vmdk'), bad);
      const down = await vmxfer(['download', `file://${bucket}/disk.vmdk`, join(sub, 'down.raw'), '--to', 'raw', '--state-dir', join(sub, 'state')]);
      assert.equal(down.code, EXIT_CODES['invalid-input'], `${label} download --to raw: ${down.stderr}`);
      assert.match(down.stderr, new RegExp(`\\[${code}\\]`));
    }
  } finally {
    await cleanup();
  }
});
