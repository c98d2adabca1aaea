import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { qemuFromRaw, qemuToRaw, assertSourceMatchesRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { buildDifferencingVhd, setBit, SECTOR, type SpecBlock, type SpecLocator } from '../helpers/vhd-spec.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

const MiB = 1024 * 1024;
const CHILD_BLOCK = MiB; // the parent (qemu) uses 2 MiB blocks: the chain must not assume equal block sizes

interface Chain {
  dir: string;
  parentPath: string;
  parentRaw: Buffer;
  parentId: Buffer;
  cleanup: () => Promise<void>;
}

/** A dynamic parent written by qemu from random data, and its content as qemu reads it. */
async function makeParent(): Promise<Chain> {
  const { dir, cleanup } = await tempDir();
  const raw = join(dir, 'parent-src.raw');
  const content = Buffer.alloc(6 * MiB);
  randomBytes(3 * MiB).copy(content, MiB);
  await writeFile(raw, content);
  const parentPath = await qemuFromRaw(raw, join(dir, 'parent.vhd'), 'vpc', ['-o', 'subformat=dynamic']);
  const parentRaw = await readFile(await qemuToRaw(parentPath, dir, 'vpc'));
  const file = await readFile(parentPath);
  const parentId = file.subarray(file.length - 512 + 68, file.length - 512 + 84);
  return { dir, parentPath, parentRaw, parentId: Buffer.from(parentId), cleanup };
}

/** Child blocks: partial bitmaps, a full block, an allocated block with no sector present, the partial last block. */
function childBlocks(virtualSize: number): Map<number, SpecBlock> {
  const sectorsPerBlock = CHILD_BLOCK / SECTOR;
  const blocks = new Map<number, SpecBlock>();
  const add = (index: number, sectors: number[]) => {
    const bitmap = Buffer.alloc(sectorsPerBlock / 8);
    for (const s of sectors) setBit(bitmap, s);
    blocks.set(index, { bitmap, data: randomBytes(CHILD_BLOCK) });
  };
  add(0, [0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 2047]);
  add(1, Array.from({ length: sectorsPerBlock }, (_, i) => i));
  add(3, []);
  const last = Math.ceil(virtualSize / CHILD_BLOCK) - 1;
  const lastSectors = Math.ceil((virtualSize - last * CHILD_BLOCK) / SECTOR);
  add(last, [0, 9, 10, 11, lastSectors - 1]);
  return blocks;
}

/** The merged disk computed from the spec's rule: a set bit takes the child's sector, a clear bit or unallocated block the parent's. */
function mergedContent(parentRaw: Buffer, blocks: Map<number, SpecBlock>, virtualSize: number): Buffer {
  const out = Buffer.alloc(virtualSize);
  parentRaw.copy(out, 0, 0, Math.min(parentRaw.length, virtualSize));
  for (const [index, block] of blocks) {
    for (let s = 0; s < CHILD_BLOCK / SECTOR; s++) {
      const at = index * CHILD_BLOCK + s * SECTOR;
      if (at >= virtualSize || !(block.bitmap[s >> 3]! & (0x80 >> (s & 7)))) continue;
      block.data.copy(out, at, s * SECTOR, Math.min(s * SECTOR + SECTOR, virtualSize - index * CHILD_BLOCK));
    }
  }
  return out;
}

function utf16(path: string): Buffer {
  return Buffer.from(path, 'utf16le');
}

interface ChildOptions {
  locators?: SpecLocator[];
  parentId?: Buffer;
  name?: string;
  dir?: string;
}

async function writeChild(chain: Chain, opts: ChildOptions = {}): Promise<{ path: string; expected: Buffer }> {
  const virtualSize = chain.parentRaw.length;
  const blocks = childBlocks(virtualSize);
  const image = buildDifferencingVhd({
    virtualSize,
    blockSize: CHILD_BLOCK,
    parentUniqueId: opts.parentId ?? chain.parentId,
    parentName: 'parent.vhd',
    locators: opts.locators ?? [
      { platform: 'W2ku', data: utf16('C:\\vms\\gone\\parent.vhd') },
      { platform: 'W2ru', data: utf16('.\\parent.vhd') },
    ],
    blocks,
  });
  const path = join(opts.dir ?? chain.dir, opts.name ?? 'child.vhd');
  await writeFile(path, image);
  return { path, expected: mergedContent(chain.parentRaw, blocks, virtualSize) };
}

async function expectCode(path: string, code: string, opts: { parent?: string } = {}): Promise<Error> {
  let caught: unknown;
  await openDisk(path, opts).then((d) => d.close(), (err) => (caught = err));
  assert.ok(isVmxferError(caught), `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.includes(path) || (opts.parent && caught.message.includes(opts.parent)), `message names the file: ${caught.message}`);
  return caught;
}

test('differencing VHD built from the spec reads merged over its qemu-made dynamic parent', async () => {
  const chain = await makeParent();
  try {
    const child = await writeChild(chain);
    assert.ok(!child.expected.equals(chain.parentRaw), 'the child changes the parent');
    const expectedPath = join(chain.dir, 'expected.raw');
    await writeFile(expectedPath, child.expected);
    const disk = await openDisk(child.path);
    try {
      assert.equal(disk.info.subformat, 'differencing');
      assert.equal(disk.info.parent?.format, 'vhd');
      assert.equal(disk.info.parent?.subformat, 'dynamic');
      assert.deepEqual(disk.info.files, [child.path, chain.parentPath]);
      await assertSourceMatchesRaw(disk, expectedPath);
    } finally {
      await disk.close();
    }
  } finally {
    await chain.cleanup();
  }
});

test('absolute locators resolve too: a MacX file URL, and a W2ku Windows path by its file name beside the child', async () => {
  const chain = await makeParent();
  try {
    const other = join(chain.dir, 'elsewhere');
    await mkdir(other);
    const mac = await writeChild(chain, { dir: other, locators: [{ platform: 'MacX', data: Buffer.from(pathToFileURL(chain.parentPath).href) }] });
    const expectedPath = join(chain.dir, 'expected.raw');
    await writeFile(expectedPath, mac.expected);
    const a = await openDisk(mac.path);
    await assertSourceMatchesRaw(a, expectedPath).finally(() => a.close());
    const win = await writeChild(chain, { name: 'win.vhd', locators: [{ platform: 'W2ku', data: utf16('D:\\Hyper-V\\parent.vhd') }] });
    const b = await openDisk(win.path);
    await writeFile(expectedPath, win.expected);
    await assertSourceMatchesRaw(b, expectedPath).finally(() => b.close());
  } finally {
    await chain.cleanup();
  }
});

test('a differencing VHD without its parent fails with VHD_PARENT_MISSING, and --parent supplies it', async () => {
  const chain = await makeParent();
  try {
    const lonely = join(chain.dir, 'lonely');
    await mkdir(lonely);
    const child = await writeChild(chain, { dir: lonely });
    const err = await expectCode(child.path, 'VHD_PARENT_MISSING');
    assert.match(err.message, /needs its parent/);
    assert.match(err.message, /--parent/);
    assert.match(err.message, /Footers not identical/);
    const cli = await vmxfer(['convert', child.path, join(chain.dir, 'x.raw'), '--to', 'raw']);
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(cli.stderr, /VHD_PARENT_MISSING/);
    const out = join(chain.dir, 'merged.raw');
    const ok = await vmxfer(['convert', child.path, out, '--to', 'raw', '--parent', chain.parentPath, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((await readFile(out)).equals(child.expected), 'vmxfer convert --parent output equals the merged content');
  } finally {
    await chain.cleanup();
  }
});

test('a parent whose unique id differs from the recorded one is refused (VHD_PARENT_ID_MISMATCH)', async () => {
  const chain = await makeParent();
  try {
    const child = await writeChild(chain, { parentId: randomBytes(16) });
    await expectCode(child.path, 'VHD_PARENT_ID_MISMATCH');
  } finally {
    await chain.cleanup();
  }
});

test('a chain that names itself as parent is refused (VHD_CHAIN_LOOP)', async () => {
  const chain = await makeParent();
  try {
    const child = await writeChild(chain, { name: 'self.vhd', locators: [{ platform: 'W2ru', data: utf16('.\\self.vhd') }] });
    await expectCode(child.path, 'VHD_CHAIN_LOOP');
  } finally {
    await chain.cleanup();
  }
});

test('a parent locator whose data lies outside the file is refused (VHD_BAD_PARENT_LOCATOR)', async () => {
  const chain = await makeParent();
  try {
    const child = await writeChild(chain, { locators: [{ platform: 'W2ru', data: utf16('.\\parent.vhd'), offset: 1 << 40 }] });
    await expectCode(child.path, 'VHD_BAD_PARENT_LOCATOR');
  } finally {
    await chain.cleanup();
  }
});
