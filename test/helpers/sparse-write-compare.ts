import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { qemuImg } from './qemu.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';

/**
 * For multi-GiB sparse disks: writes what the source yields to a sparse raw file (data extents only,
 * checking that extents tile the disk), then lets `qemu-img compare` — which skips holes on both sides
 * — check it against qemu's own raw rendering. Same verdict as assertSourceMatchesRaw, without
 * reading gigabytes of zeros through JavaScript.
 */
export async function assertSparseSourceMatchesRaw(source: DiskSource, oracleRaw: string, dir: string): Promise<void> {
  const out = join(dir, `ours-${Math.random().toString(36).slice(2)}.raw`);
  const fh = await open(out, 'w');
  try {
    let expect = 0;
    for await (const e of source.extents()) {
      assert.equal(e.offset, expect, `extent at ${e.offset} leaves a gap or overlap (expected ${expect})`);
      if (e.kind === 'data') await fh.write(e.data, 0, e.length, e.offset);
      expect += e.length;
    }
    assert.equal(expect, source.virtualSize, 'extents cover the virtual size');
    await fh.truncate(source.virtualSize);
  } finally {
    await fh.close();
  }
  await qemuImg(['compare', '-f', 'raw', '-F', 'raw', out, oracleRaw]).catch((err: { stdout?: string }) => assert.fail(`qemu-img compare: ${err.stdout ?? String(err)}`));
}
