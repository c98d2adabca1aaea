import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run-command.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';

/** qemu-img is the independent oracle for every format. */
export function qemuImg(args: string[]): Promise<string> {
  return run('qemu-img', args);
}

export async function qemuInfo(path: string, format?: string): Promise<Record<string, any>> {
  const args = ['info', '--output=json', ...(format ? ['-f', format] : []), path];
  return JSON.parse(await qemuImg(args));
}

/** `qemu-img convert -O raw`: the bytes a reader must reproduce. */
export async function qemuToRaw(image: string, dir: string, format?: string): Promise<string> {
  const out = join(dir, `oracle-${Math.random().toString(36).slice(2)}.raw`);
  await qemuImg(['convert', ...(format ? ['-f', format] : []), '-O', 'raw', image, out]);
  return out;
}

/** `qemu-img convert` from a raw file to FORMAT with options such as `-o subformat=...`. */
export async function qemuFromRaw(raw: string, out: string, format: string, options: string[] = []): Promise<string> {
  await qemuImg(['convert', '-f', 'raw', '-O', format, ...options, raw, out]);
  return out;
}

/**
 * Asserts that a DiskSource yields exactly the bytes of `rawPath` (qemu's rendering): data
 * extents byte for byte, zero and unallocated extents all zero there, and the same size.
 * Reports the first differing offset.
 */
export async function assertSourceMatchesRaw(source: DiskSource, rawPath: string): Promise<void> {
  const fh = await open(rawPath, 'r');
  try {
    const { size } = await fh.stat();
    assert.equal(source.virtualSize, size, `virtual size ${source.virtualSize} != qemu's ${size}`);
    let expectOffset = 0;
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    const zeros = Buffer.alloc(buf.length);
    for await (const e of source.extents()) {
      assert.equal(e.offset, expectOffset, `extent at ${e.offset} leaves a gap or overlap (expected ${expectOffset})`);
      assert.ok(e.length > 0, `empty extent at ${e.offset}`);
      if (e.kind === 'data') assert.equal(e.data.length, e.length, `data extent at ${e.offset} has ${e.data.length} bytes for length ${e.length}`);
      for (let done = 0; done < e.length; ) {
        const n = Math.min(buf.length, e.length - done);
        const view = buf.subarray(0, n);
        await fh.read(view, 0, n, e.offset + done);
        const want = e.kind === 'data' ? e.data.subarray(done, done + n) : zeros.subarray(0, n);
        if (!view.equals(want)) {
          let i = 0;
          while (view[i] === want[i]) i++;
          assert.fail(`content differs from qemu-img at byte ${e.offset + done + i} (${e.kind} extent at ${e.offset})`);
        }
        done += n;
      }
      expectOffset += e.length;
    }
    assert.equal(expectOffset, size, `extents end at ${expectOffset}, virtual size ${size}`);
  } finally {
    await fh.close();
  }
}

/** A test's `skip` when qemu-img (the oracle) is absent: false when it runs, else the reason printed. */
export const QEMU_MISSING: string | false = spawnSync('qemu-img', ['--version']).status === 0 ? false : 'qemu-img is not installed (apt-get install qemu-utils): it is the oracle of this test';

/** `qemu-img compare` of two images (formats detected): resolves when their contents are identical, rejects with qemu's words otherwise. */
export async function qemuCompare(a: string, b: string): Promise<void> {
  await qemuImg(['compare', a, b]);
}
