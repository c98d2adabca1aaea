import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import type { RandomReadable } from '../../agent/guest/byte-source.js';
import { tempDir } from '../helpers/tmp.js';
import { QEMU_MISSING, qemuFromRaw } from '../helpers/qemu.js';
import { fileSize, gnuTar, vmwareStyleOvf, writeManifest } from '../helpers/ova-build.js';

const MiB = 1024 * 1024;
const SIZE = 40 * MiB;
let dir: string;
let cleanup: () => Promise<void>;
let raw: string;

/** Deterministic PRNG (mulberry32), so a failing offset can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-readat-'));
  raw = join(dir, 'disk.raw');
  const fh = await open(raw, 'w');
  try {
    await fh.truncate(SIZE);
    const rnd = prng(7);
    // Scattered runs of random bytes (odd lengths, unaligned), the rest a hole that reads as zeros.
    for (let i = 0; i < 40; i++) {
      const at = Math.floor(rnd() * (SIZE - MiB));
      const data = Buffer.alloc(1 + Math.floor(rnd() * 300_000));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(rnd() * 256);
      await fh.write(data, 0, data.length, at);
    }
  } finally {
    await fh.close();
  }
});
after(() => cleanup());

async function sequential(disk: DiskSource): Promise<Buffer> {
  const out = Buffer.alloc(disk.virtualSize);
  for await (const e of disk.extents()) if (e.kind === 'data') e.data.copy(out, e.offset);
  return out;
}

function readable(disk: DiskSource): RandomReadable {
  const r = (disk as Partial<RandomReadable>).readAt;
  assert.equal(typeof r, 'function', `${disk.info.format} ${disk.info.subformat ?? ''} has no readAt`);
  return disk as unknown as RandomReadable;
}

async function images(): Promise<string[]> {
  const q = (name: string, format: string, o: string[] = []) => qemuFromRaw(raw, join(dir, name), format, o);
  const stream = await q('s.vmdk', 'vmdk', ['-o', 'subformat=streamOptimized']);
  const ovf = join(dir, 'p.ovf');
  await writeFile(ovf, vmwareStyleOvf([{ href: 's.vmdk', size: await fileSize(stream), capacity: SIZE }]));
  await writeManifest(dir, 'p.mf', ['p.ovf', 's.vmdk'], 'sha256-space');
  return [
    stream,
    await q('m.vmdk', 'vmdk', ['-o', 'subformat=monolithicSparse']),
    await q('f.vmdk', 'vmdk', ['-o', 'subformat=monolithicFlat']),
    await q('t.vmdk', 'vmdk', ['-o', 'subformat=twoGbMaxExtentSparse']),
    await q('d.vhd', 'vpc', ['-o', 'subformat=dynamic']),
    await q('x.vhd', 'vpc', ['-o', 'subformat=fixed']),
    await q('d.vdi', 'vdi'),
    await q('x.vdi', 'vdi', ['-o', 'static=on']),
    await gnuTar(dir, join(dir, 'p.ova'), ['p.ovf', 'p.mf', 's.vmdk'], 'ustar'),
  ];
}

test('readAt of VMDK (stream-optimized, sparse, flat, split), VHD (dynamic, fixed), VDI (dynamic, static) and an OVA file equals the sequential read at random offsets', async (t) => {
  if (QEMU_MISSING) return t.skip(QEMU_MISSING);
  for (const image of await images()) {
    const whole = await (async () => {
      const d = await openDisk(image);
      try {
        return await sequential(d);
      } finally {
        await d.close();
      }
    })();
    const disk = await openDisk(image);
    try {
      const r = readable(disk);
      const rnd = prng(image.length);
      for (let i = 0; i < 300; i++) {
        const offset = Math.floor(rnd() * disk.virtualSize);
        const length = Math.min(disk.virtualSize - offset, 1 + Math.floor(rnd() * (i % 3 === 0 ? 3 * MiB : 5000)));
        const got = Buffer.alloc(length, 0xa5);
        await r.readAt(offset, got);
        if (!got.equals(whole.subarray(offset, offset + length))) assert.fail(`${image}: readAt(${offset}, ${length}) differs from the sequential read`);
      }
      const all = Buffer.alloc(disk.virtualSize);
      await r.readAt(0, all);
      assert.ok(all.equals(whole), `${image}: readAt of the whole disk differs`);
    } finally {
      await disk.close();
    }
  }
});
