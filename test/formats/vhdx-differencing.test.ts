import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuFromRaw } from '../helpers/qemu.js';
import { cachedQemuImage, copyInto } from '../helpers/qemu-images.js';
import { tempDir } from '../helpers/tmp.js';
import { guidBytes, guidText, MiB, VhdxEditor } from '../helpers/vhdx-edit.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

/**
 * qemu-img cannot make a differencing VHDX, so the test turns a qemu-made dynamic VHDX (1 MiB blocks)
 * into one per [MS-VHDX]: HasParent set (§2.6.2.1), a Parent Locator item added (§2.6.2.6), blocks
 * without data made NOT_PRESENT (read from the parent), one block ZERO (hides the parent), and one block
 * PARTIALLY_PRESENT with a sector bitmap block (§2.5) whose first half of bits are set. The expected
 * content is assembled here from the parent's and the child's raw files block by block.
 */
const PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C';
const VHDX_LOCATOR_TYPE = 'B04AEFB7-D19E-4A81-B789-25B8E9445913';
const FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
const SECTORS_PER_BLOCK = MiB / 512;
const CHUNK_RATIO = 4096; // 2^23 * 512 / 1 MiB
const FULL = [10, 40];
const PARTIAL = 11;
const ZERO = 5;

interface Chain {
  dir: string;
  parent: string;
  child: string;
  expected: string;
  parentGuid: string;
}

async function buildChain(dir: string): Promise<Chain> {
  const parentRaw = await buildRealisticDisk(SMALL_DISK);
  const parent = await copyInto(dir, await cachedQemuImage(SMALL_DISK, 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']), 'parent.vhdx');
  const childRaw = join(dir, 'child.raw');
  await truncate(childRaw, 0).catch(async () => (await open(childRaw, 'w')).close());
  await truncate(childRaw, SMALL_DISK.size);
  const fh = await open(childRaw, 'r+');
  for (const b of [...FULL, PARTIAL]) await fh.write(randomBytes(MiB), 0, MiB, b * MiB);
  await fh.close();
  const child = await qemuFromRaw(childRaw, join(dir, 'child.vhdx'), 'vhdx', ['-o', 'subformat=dynamic,block_size=1M']);
  const ped = await VhdxEditor.open(parent);
  const parentGuid = guidText(await ped.currentHeader(), 32);
  await ped.close();
  await makeDifferencing(child, { parent_linkage: `{${parentGuid}}`, relative_path: '.\\parent.vhdx' });
  const expected = await expectedContent(dir, parentRaw, childRaw);
  return { dir, parent, child, expected, parentGuid };
}

async function makeDifferencing(child: string, locator: Record<string, string>): Promise<void> {
  const ed = await VhdxEditor.open(child);
  try {
    const items = await ed.metadataItems();
    const params = items.get(FILE_PARAMETERS)!;
    const flags = (await ed.read(params.at + 4, 4)).readUInt32LE(0) | 2;
    const fb = Buffer.alloc(4);
    fb.writeUInt32LE(flags);
    await ed.write(params.at + 4, fb);
    const blocks = Math.ceil(SMALL_DISK.size / MiB);
    for (let b = 0; b < blocks; b++) {
      const e = await ed.batEntry(b);
      if (b === ZERO) await ed.setBatEntry(b, 2, 0);
      else if (b === PARTIAL) await ed.setBatEntry(b, 7, e.fileOffset);
      else if (e.state !== 6) await ed.setBatEntry(b, 0, 0);
    }
    const bitmapAt = Math.ceil((await ed.size()) / MiB) * MiB;
    const bitmap = Buffer.alloc(MiB);
    bitmap.fill(0xff, (PARTIAL * SECTORS_PER_BLOCK) / 8, (PARTIAL * SECTORS_PER_BLOCK + SECTORS_PER_BLOCK / 2) / 8);
    await ed.write(bitmapAt, bitmap);
    await ed.setBatEntry(CHUNK_RATIO, 6, bitmapAt);
    await addParentLocator(ed, locator);
  } finally {
    await ed.close();
  }
}

/** Appends a Parent Locator item (§2.6.2.6) at 512 KiB into the metadata region and its table entry (§2.6.1.2). */
async function addParentLocator(ed: VhdxEditor, kv: Record<string, string>): Promise<void> {
  const pairs = Object.entries(kv).map(([k, v]) => [Buffer.from(k, 'utf16le'), Buffer.from(v, 'utf16le')] as const);
  const head = Buffer.alloc(20 + pairs.length * 12);
  guidBytes(VHDX_LOCATOR_TYPE).copy(head, 0);
  head.writeUInt16LE(pairs.length, 18);
  const strings: Buffer[] = [];
  let at = head.length;
  pairs.forEach(([k, v], i) => {
    head.writeUInt32LE(at, 20 + i * 12);
    head.writeUInt32LE(at + k.length, 24 + i * 12);
    head.writeUInt16LE(k.length, 28 + i * 12);
    head.writeUInt16LE(v.length, 30 + i * 12);
    strings.push(k, v);
    at += k.length + v.length;
  });
  const item = Buffer.concat([head, ...strings]);
  const { metadata } = await ed.regions();
  const table = await ed.read(metadata.offset, 64 * 1024);
  const count = table.readUInt16LE(10);
  const entry = Buffer.alloc(32);
  guidBytes(PARENT_LOCATOR).copy(entry, 0);
  entry.writeUInt32LE(512 * 1024, 16);
  entry.writeUInt32LE(item.length, 20);
  entry.writeUInt32LE(4, 24); // IsRequired
  await ed.write(metadata.offset + 32 + count * 32, entry);
  const c = Buffer.alloc(2);
  c.writeUInt16LE(count + 1);
  await ed.write(metadata.offset + 10, c);
  await ed.write(metadata.offset + 512 * 1024, item);
}

/** Block by block: child data for FULL blocks, zeros for ZERO, half child / half parent for PARTIAL, parent elsewhere. */
async function expectedContent(dir: string, parentRaw: string, childRaw: string): Promise<string> {
  const out = join(dir, 'expected.raw');
  const [p, c, o] = await Promise.all([open(parentRaw, 'r'), open(childRaw, 'r'), open(out, 'w')]);
  const buf = Buffer.alloc(MiB);
  for (let off = 0; off < SMALL_DISK.size; off += MiB) {
    const len = Math.min(MiB, SMALL_DISK.size - off);
    const b = off / MiB;
    const view = buf.subarray(0, len);
    if (b === ZERO) view.fill(0);
    else await (FULL.includes(b) ? c : p).read(view, 0, len, off);
    if (b === PARTIAL) await c.read(view, 0, MiB / 2, off);
    await o.write(view, 0, len, off);
  }
  await Promise.all([p.close(), c.close(), o.close()]);
  return out;
}

test('differencing vhdx: merged with its parent (NOT_PRESENT from parent, ZERO hides it, PARTIALLY_PRESENT per sector bitmap)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const chain = await buildChain(dir);
    const disk = await openDisk(chain.child);
    assert.equal(disk.info.format, 'vhdx');
    assert.equal(disk.info.subformat, 'differencing');
    assert.equal(disk.info.parent?.details?.['dataWriteGuid'], chain.parentGuid);
    assert.deepEqual(disk.info.files, [chain.child, chain.parent]);
    await assertSourceMatchesRaw(disk, chain.expected);
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('differencing vhdx: a parent not beside the child is PARENT_NOT_FOUND, and OpenOptions.parent finds it', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const chain = await buildChain(dir);
    const moved = join(dir, 'elsewhere.vhdx');
    await rename(chain.parent, moved);
    await expectCode(openDisk(chain.child), 'VHDX_PARENT_NOT_FOUND', chain.child);
    const disk = await openDisk(chain.child, { parent: moved });
    await assertSourceMatchesRaw(disk, chain.expected);
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('differencing vhdx: a locator naming the child itself is PARENT_LOOP; a wrong parent_linkage is PARENT_MISMATCH', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const chain = await buildChain(dir);
    const selfRef = await copyInto(dir, chain.child, 'self.vhdx');
    await rewriteLocator(selfRef, { parent_linkage: `{${chain.parentGuid}}`, relative_path: 'self.vhdx' });
    await expectCode(openDisk(selfRef), 'VHDX_PARENT_LOOP', selfRef);
    const wrong = await copyInto(dir, chain.child, 'wrong.vhdx');
    await rewriteLocator(wrong, { parent_linkage: `{${guidText(randomBytes(16))}}`, relative_path: 'parent.vhdx' });
    await expectCode(openDisk(wrong), 'VHDX_PARENT_MISMATCH', wrong);
  } finally {
    await cleanup();
  }
});

/** Rewrites the locator item in place (same table entry, new content and length). */
async function rewriteLocator(image: string, kv: Record<string, string>): Promise<void> {
  const ed = await VhdxEditor.open(image);
  try {
    const { metadata } = await ed.regions();
    const c = Buffer.alloc(2);
    c.writeUInt16LE((await ed.read(metadata.offset + 10, 2)).readUInt16LE(0) - 1);
    await ed.write(metadata.offset + 10, c);
    await addParentLocator(ed, kv);
  } finally {
    await ed.close();
  }
}

async function expectCode(p: Promise<unknown>, code: string, file: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isVmxferError(err), `typed error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.file, file);
    return true;
  });
}
