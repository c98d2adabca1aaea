import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import { qemuImg } from './qemu.js';

interface MapEntry {
  start: number;
  length: number;
  data: boolean;
}

/**
 * assertSourceMatchesRaw for multi-GiB sparse oracles: data extents are compared byte for byte, and
 * empty extents are checked against `qemu-img map` of the raw file (its holes are zeros by
 * definition; only ranges it reports as data are read and must be zero).
 */
export async function assertSourceMatchesSparseRaw(source: DiskSource, rawPath: string): Promise<void> {
  const map: MapEntry[] = JSON.parse(await qemuImg(['map', '--output=json', '-f', 'raw', rawPath]));
  const fh = await open(rawPath, 'r');
  try {
    const { size } = await fh.stat();
    assert.equal(source.virtualSize, size, `virtual size ${source.virtualSize} != qemu's ${size}`);
    let expect = 0;
    for await (const e of source.extents()) {
      assert.equal(e.offset, expect, `extent at ${e.offset} leaves a gap or overlap (expected ${expect})`);
      assert.ok(e.length > 0, `empty extent at ${e.offset}`);
      if (e.kind === 'data') {
        const want = Buffer.allocUnsafe(e.length);
        await fh.read(want, 0, e.length, e.offset);
        if (!want.equals(e.data)) assert.fail(`content differs from qemu-img in the data extent at ${e.offset}`);
      } else {
        await assertZeros(fh, map, e.offset, e.offset + e.length);
      }
      expect += e.length;
    }
    assert.equal(expect, size, `extents end at ${expect}, virtual size ${size}`);
  } finally {
    await fh.close();
  }
}

async function assertZeros(fh: Awaited<ReturnType<typeof open>>, map: MapEntry[], from: number, to: number): Promise<void> {
  for (const m of map) {
    const start = Math.max(from, m.start);
    const end = Math.min(to, m.start + m.length);
    if (!m.data || start >= end) continue;
    const buf = Buffer.allocUnsafe(end - start);
    await fh.read(buf, 0, buf.length, start);
    const nz = buf.findIndex((b) => b !== 0);
    if (nz >= 0) assert.fail(`qemu-img has a non-zero byte at ${start + nz}, inside an empty extent`);
  }
}
