import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { changedSinceBitmap } from '../../agent/incremental/changed-blocks/qcow2-bitmap.js';
import { run } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

/** qemu-img makes the bitmap and qemu-io writes through it: qemu is the oracle for what the bitmap holds. */
async function bitmapImage(path: string, size: string, writes: Array<[number, number]>, granularity?: number): Promise<void> {
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, size]);
  await run('qemu-img', ['bitmap', '--add', '--enable', ...(granularity ? ['-g', String(granularity)] : []), path, 'b0']);
  if (writes.length) await run('qemu-io', [...writes.flatMap(([o, n]) => ['-c', `write -P 0x5a ${o} ${n}`]), path]);
}

/** The bitmap directory's offset, from the bitmaps header extension (qcow2.txt §Bitmaps extension). */
async function directoryOffset(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(65536);
    await fh.read(head, 0, head.length, 0);
    for (let pos = head.readUInt32BE(100); ; ) {
      const type = head.readUInt32BE(pos);
      const len = head.readUInt32BE(pos + 4);
      if (type === 0x23852875) return Number(head.readBigUInt64BE(pos + 24));
      assert.notEqual(type, 0, 'the image has a bitmaps extension');
      pos += 8 + Math.ceil(len / 8) * 8;
    }
  } finally {
    await fh.close();
  }
}

async function patch(path: string, offset: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.write(bytes, 0, bytes.length, offset);
  await fh.close();
}

test('a qcow2 dirty bitmap gives exactly the granules qemu-io wrote (64 KiB default and 512 KiB granularity)', async () => {
  const dir = await tempDir('vmxfer-bitmap-');
  try {
    const img = join(dir.dir, 'a.qcow2');
    await bitmapImage(img, '64M', [[MiB, 65536], [40 * MiB + 4096, 4096], [63 * MiB, MiB]]);
    assert.deepEqual(await changedSinceBitmap(img, 'b0'), { version: 1, virtualSize: 64 * MiB, extents: [{ offset: MiB, length: 65536 }, { offset: 40 * MiB, length: 65536 }, { offset: 63 * MiB, length: MiB }] });
    const coarse = join(dir.dir, 'b.qcow2');
    await bitmapImage(coarse, '64M', [[3 * MiB + 1024, 512]], 512 * 1024);
    assert.deepEqual((await changedSinceBitmap(coarse, 'b0')).extents, [{ offset: 3 * MiB, length: 512 * 1024 }]);
    const clean = join(dir.dir, 'c.qcow2');
    await bitmapImage(clean, '16M', []);
    assert.deepEqual((await changedSinceBitmap(clean, 'b0')).extents, []);
    await assert.rejects(changedSinceBitmap(clean, 'nope'), (e: Error & { code?: string }) => e.code === 'INCR_BITMAP_INVALID' && /no bitmap "nope".*b0/.test(e.message));
  } finally {
    await dir.cleanup();
  }
});

test('a bitmap left in use by a killed qemu (kill -9 while open read-write) is refused: INCR_BITMAP_IN_USE', async () => {
  const dir = await tempDir('vmxfer-bitmap-');
  try {
    const img = join(dir.dir, 'inuse.qcow2');
    await bitmapImage(img, '16M', []);
    const child = spawn('qemu-io', ['-c', 'sleep 60000', img], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await assert.rejects(changedSinceBitmap(img, 'b0'), (e: Error & { code?: string }) => e.code === 'INCR_BITMAP_IN_USE' && /bitmap b0 is in use: the image was not closed cleanly/.test(e.message));
  } finally {
    await dir.cleanup();
  }
});

test('a malformed bitmap directory is a typed error naming the field, never a crash or a huge allocation', async () => {
  const dir = await tempDir('vmxfer-bitmap-');
  try {
    const good = join(dir.dir, 'good.qcow2');
    await bitmapImage(good, '16M', [[0, 4096]]);
    const at = await directoryOffset(good);
    const cases: Array<[string, number, Buffer, RegExp]> = [
      ['type 2', at + 16, Buffer.from([2]), /type 2; only type 1/],
      ['granularity 60', at + 17, Buffer.from([60]), /granularity_bits 60/],
      ['table of 2^32-1 entries', at + 8, Buffer.from([0xff, 0xff, 0xff, 0xff]), /table of 4294967295 entries/],
      ['table past the end', at, Buffer.from('0000ffffffff0000', 'hex'), /table at/],
      ['unknown extra data', at + 20, Buffer.from([0, 0, 0, 4]), /4 bytes of extra data/],
      ['reserved flag', at + 12, Buffer.from([0x80, 0, 0, 2]), /reserved flags/],
    ];
    for (const [what, offset, bytes, re] of cases) {
      const img = join(dir.dir, `${what.replace(/\W+/g, '-')}.qcow2`);
      await copyFile(good, img);
      await patch(img, offset, bytes);
      await assert.rejects(changedSinceBitmap(img, 'b0'), (e: Error & { code?: string }) => e.code === 'INCR_BITMAP_INVALID' && re.test(e.message), what);
    }
    // The directory itself: a size of 2^40 and an offset past the file, in the header extension.
    const head = Buffer.alloc(4096);
    const fh = await open(good, 'r');
    await fh.read(head, 0, 4096, 0);
    await fh.close();
    let ext = head.readUInt32BE(100);
    while (head.readUInt32BE(ext) !== 0x23852875) ext += 8 + Math.ceil(head.readUInt32BE(ext + 4) / 8) * 8;
    for (const [what, offset, bytes, re] of [
      ['directory of 1 TiB', ext + 16, Buffer.from('0000010000000000', 'hex'), /bitmap_directory_size/],
      ['directory past the end', ext + 24, Buffer.from('0000000100000000', 'hex'), /bitmap_directory_offset/],
    ] as Array<[string, number, Buffer, RegExp]>) {
      const img = join(dir.dir, `${what.replace(/\W+/g, '-')}.qcow2`);
      await copyFile(good, img);
      await patch(img, offset, bytes);
      await assert.rejects(changedSinceBitmap(img, 'b0'), (e: Error & { code?: string }) => e.code === 'INCR_BITMAP_INVALID' && re.test(e.message), what);
    }
  } finally {
    await dir.cleanup();
  }
});
