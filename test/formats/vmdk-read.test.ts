import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_DISK, SMALL_DISK, SPARSE_DISK, buildRealisticDisk } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuImg, qemuToRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { cachedVmdk, copyVmdk } from '../helpers/vmdk-fixtures.js';
import { assertSourceMatchesSparseRaw } from '../helpers/sparse-compare.js';
import { run } from '../helpers/run-command.js';
import { openDisk } from '../../agent/formats/detect.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import type { Extent } from '../../agent/disk/extent.js';

const MiB = 1024 * 1024;

/** Opens `image` by detection, checks it against qemu-img's raw rendering, returns what it reported. */
async function matchesQemu(image: string, dir: string, check?: (d: DiskSource) => void | Promise<void>, sparse = false): Promise<void> {
  const oracle = await qemuToRaw(image, dir, 'vmdk');
  const disk = await openDisk(image);
  try {
    assert.equal(disk.info.format, 'vmdk');
    await (sparse ? assertSourceMatchesSparseRaw : assertSourceMatchesRaw)(disk, oracle);
    await check?.(disk);
  } finally {
    await disk.close();
  }
}

async function collect(disk: DiskSource, maxDataLength?: number): Promise<Extent[]> {
  const out: Extent[] = [];
  for await (const e of disk.extents({ maxDataLength })) out.push(e);
  return out;
}

for (const [subformat, extra] of [
  ['monolithicSparse', []],
  ['monolithicFlat', []],
  ['streamOptimized', []],
  ['twoGbMaxExtentFlat', []],
  ['monolithicSparse', ['zeroed_grain=on']],
] as const) {
  test(`vmdk ${subformat}${extra.length ? ' ' + extra.join(',') : ''} of the small disk matches qemu-img convert -O raw`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const image = await cachedVmdk(SMALL_DISK, subformat, [...extra]);
      await matchesQemu(image, dir, async (d) => {
        assert.equal(d.info.subformat, subformat);
        const info = JSON.parse(await qemuImg(['info', '--output=json', image]));
        assert.equal(d.virtualSize, info['virtual-size']);
      });
    } finally {
      await cleanup();
    }
  });
}

test('vmdk header versions 1, 2 and 3 (as qemu writes them) are all read', async () => {
  const versions = new Map<number, string>();
  for (const [sub, extra] of [['monolithicSparse', []], ['monolithicSparse', ['zeroed_grain=on']], ['streamOptimized', []]] as const) {
    const d = await openDisk(await cachedVmdk(SMALL_DISK, sub, [...extra]));
    versions.set(d.info.details?.['headerVersion'] as number, sub + extra.join(''));
    await d.close();
  }
  assert.deepEqual([...versions.keys()].sort(), [1, 2, 3]);
});

test('vmdk a version-1 header patched to version 2 reads the same (VMDK 5.0: v2 differs only by the zeroed-grain GTE)', async () => {
  // qemu writes version 2 only together with the zeroed-grain flag; a version-2 header without the
  // flag is valid too, since the zeroed-grain GTE is the only difference between the versions.
  const { dir, cleanup } = await tempDir();
  try {
    const image = await copyVmdk(await cachedVmdk(SMALL_DISK, 'monolithicSparse'), dir);
    const oracle = await qemuToRaw(image, dir, 'vmdk');
    const fh = await open(image, 'r+');
    await fh.write(Buffer.from([2, 0, 0, 0]), 0, 4, 4);
    await fh.close();
    const disk = await openDisk(image);
    assert.equal(disk.info.details?.['headerVersion'], 2);
    await assertSourceMatchesRaw(disk, oracle);
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('vmdk empty disk (only its last sector written) reads as one unallocated run and the short last grain', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const image = await cachedVmdk(EMPTY_DISK, 'monolithicSparse');
    await matchesQemu(image, dir, async (d) => {
      assert.equal(d.info.allocatedBytes, 512);
      assert.deepEqual((await collect(d)).map((e) => [e.kind, e.length]), [['unallocated', EMPTY_DISK.size - 512], ['data', 512]]);
    });
  } finally {
    await cleanup();
  }
});

test('vmdk twoGbMaxExtentSparse of the 6 GiB sparse disk spans several extent files and matches qemu', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const image = await cachedVmdk(SPARSE_DISK, 'twoGbMaxExtentSparse');
    await matchesQemu(image, dir, (d) => {
      assert.ok(d.info.files.length >= 4, `descriptor + 3 or more extents, got ${d.info.files.join(', ')}`);
      assert.equal(d.virtualSize, SPARSE_DISK.size);
    }, true);
  } finally {
    await cleanup();
  }
});

test('vmdk coalesces contiguous grains into reads of at most maxDataLength and honours smaller bounds', async () => {
  const image = await cachedVmdk(SMALL_DISK, 'monolithicSparse');
  for (const max of [4 * MiB, 3 * 65536 + 512, 4096]) {
    const disk = await openDisk(image);
    const extents = await collect(disk, max);
    await disk.close();
    const data = extents.filter((e) => e.kind === 'data');
    assert.ok(data.every((e) => e.length <= max), `a data extent is over ${max}`);
    if (max === 4 * MiB) assert.ok(data.some((e) => e.length > 65536), 'grains were coalesced');
    assert.equal(extents.reduce((n, e) => n + e.length, 0), SMALL_DISK.size);
  }
});

test('vmdk vmfs descriptor (VMFS extent) and a custom one (FLAT extents at offsets, a ZERO extent) read right', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const raw = await buildRealisticDisk(SMALL_DISK);
    const flat = join(dir, 'disk-flat.vmdk');
    const sectors = SMALL_DISK.size / 512;
    await copyFile(raw, flat);
    const offsetFlat = join(dir, 'offset-flat.vmdk');
    await writeFile(offsetFlat, Buffer.alloc(2048 * 512, 0xee)); // 1 MiB of something else before the extents
    await run('sh', ['-c', `head -c ${16 * MiB} "${raw}" >> "${offsetFlat}"`]);
    const vmfs = join(dir, 'disk.vmdk');
    await writeFile(vmfs, `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfs"\n\n# Extent description\nRW ${sectors} VMFS "disk-flat.vmdk"\n\n# The Disk Data Base\n#DDB\nddb.adapterType = "lsilogic"\nddb.virtualHWVersion = "14"\n`);
    await matchesQemu(vmfs, dir, (d) => {
      assert.equal(d.info.subformat, 'vmfs');
      assert.equal(d.info.details?.['adapterType'], 'lsilogic');
      assert.equal(d.info.details?.['hwVersion'], '14');
    });
    // qemu skips RDONLY and ZERO extent lines, so the expected bytes are assembled here instead.
    const custom = join(dir, 'custom.vmdk');
    await writeFile(custom, `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="custom"\nRW 4096 FLAT "offset-flat.vmdk" 2048\nRDONLY 8192 ZERO\nRW 2048 FLAT "offset-flat.vmdk" 8192\n`);
    const src = await readFile(offsetFlat);
    const expected = join(dir, 'custom-expected.raw');
    await writeFile(expected, Buffer.concat([src.subarray(2048 * 512, 6144 * 512), Buffer.alloc(8192 * 512), src.subarray(8192 * 512, 10240 * 512)]));
    const d = await openDisk(custom);
    await assertSourceMatchesRaw(d, expected);
    const zero = (await collect(d)).find((e) => e.kind === 'zero');
    assert.deepEqual(zero && { offset: zero.offset, length: zero.length }, { offset: 4096 * 512, length: 8192 * 512 });
    await d.close();
  } finally {
    await cleanup();
  }
});

/** A base of the small disk and a delta with qemu-io writes; `more` adds qemu-io commands. */
async function makeDelta(dir: string, zeroedGrain: boolean, more: string[] = []): Promise<string> {
  const base = join(dir, 'base.vmdk');
  await copyFile(await cachedVmdk(SMALL_DISK, 'monolithicSparse'), base);
  const delta = join(dir, 'delta.vmdk');
  await qemuImg(['create', '-q', '-f', 'vmdk', ...(zeroedGrain ? ['-o', 'zeroed_grain=on'] : []), '-b', 'base.vmdk', '-F', 'vmdk', delta]);
  await run('qemu-io', ['-c', 'write -P 0x5a 1M 64k', '-c', 'write -z 3M 64k', ...more.flatMap((c) => ['-c', c]), delta]);
  return delta;
}

test('vmdk delta disk (qemu-img create -b, qemu-io writes) reads merged with its parent like qemu', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const delta = await makeDelta(dir, false);
    await matchesQemu(delta, dir, (d) => {
      assert.equal(d.info.parent?.format, 'vmdk');
      assert.deepEqual(d.info.files, [delta, join(dir, 'base.vmdk')]);
      assert.deepEqual(d.info.warnings, []);
    });
  } finally {
    await cleanup();
  }
});

test('vmdk zeroed-grain GTEs in a delta yield zero extents that hide the parent', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 50 MiB is inside the small disk's random region: the parent has data there.
    const delta = await makeDelta(dir, true, ['write -z 50M 64k']);
    await matchesQemu(delta, dir, async (d) => {
      const zero = (await collect(d)).filter((e) => e.kind === 'zero');
      assert.deepEqual(zero.map((e) => [e.offset, e.length]), [[3 * MiB, 65536], [50 * MiB, 65536]]);
      const base = await readFile(await buildRealisticDisk(SMALL_DISK));
      assert.ok(base.subarray(50 * MiB, 50 * MiB + 65536).some((b) => b !== 0), 'the parent has data there, so the zeros prove it is hidden');
    });
  } finally {
    await cleanup();
  }
});

test('vmdk delta disk with OpenOptions.parent and a CID mismatch warning', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const delta = await makeDelta(dir, false);
    const other = join(dir, 'other.vmdk');
    await qemuImg(['convert', '-q', '-f', 'vmdk', '-O', 'vmdk', join(dir, 'base.vmdk'), other]);
    const disk = await openDisk(delta, { parent: other });
    assert.deepEqual(disk.info.files, [delta, other]);
    assert.match(disk.info.warnings.join('\n'), /parentCID [0-9a-f]{8} does not match the parent's CID/);
    await disk.close();
  } finally {
    await cleanup();
  }
});
