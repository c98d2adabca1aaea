import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { SMALL_DISK } from '../helpers/realistic-disk.js';
import { assertSourceMatchesRaw, qemuImg, qemuToRaw } from '../helpers/qemu.js';
import { SHARED_FIXTURES, tempDir } from '../helpers/tmp.js';
import { cachedVmdk } from '../helpers/vmdk-fixtures.js';
import { assertSourceMatchesSparseRaw } from '../helpers/sparse-compare.js';
import { run } from '../helpers/run-command.js';
import { vmdkStreamReader } from '../../agent/formats/vmdk/stream-reader.js';
import { openDisk } from '../../agent/formats/detect.js';
import { VmxferError } from '../../agent/core/errors.js';

/** Feeds `bytes` through a PassThrough in chunks of random sizes (1 byte to 70 KiB), never seekable. */
function chunkedStream(bytes: Buffer, seed: number): Readable {
  const pt = new PassThrough();
  let s = seed;
  (async () => {
    for (let pos = 0; pos < bytes.length; ) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (s % 70000);
      if (!pt.write(bytes.subarray(pos, pos + n))) await new Promise((r) => pt.once('drain', r));
      pos += n;
    }
    pt.end();
  })();
  return pt;
}

test('vmdk stream reader: streamOptimized through a non-seekable PassThrough in random chunks matches qemu', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const image = await cachedVmdk(SMALL_DISK, 'streamOptimized');
    const oracle = await qemuToRaw(image, dir, 'vmdk');
    const bytes = await readFile(image);
    const disk = await vmdkStreamReader.open(chunkedStream(bytes, 7), { name: 'upload.vmdk' });
    assert.equal(disk.info.subformat, 'streamOptimized');
    assert.equal(disk.virtualSize, SMALL_DISK.size);
    await assertSourceMatchesRaw(disk, oracle);
    await assert.rejects(async () => disk.extents(), /iterated only once/);
    const again = await vmdkStreamReader.open(createReadStream(image, { highWaterMark: 4096 }), { name: 'file-stream' });
    let pieces = 0;
    for await (const e of again.extents({ maxDataLength: 16384, allocate: (n) => Buffer.alloc(n) })) if (e.kind === 'data') { pieces++; assert.ok(e.length <= 16384); }
    assert.ok(pieces > 0);
  } finally {
    await cleanup();
  }
});

/** Byte position of each grain marker in a qemu stream image (grains from overHead on, sector-padded). */
function grainMarkers(buf: Buffer): number[] {
  const out: number[] = [];
  let pos = Number(buf.readBigUInt64LE(64)) * 512;
  while (pos + 512 <= buf.length && buf.readUInt32LE(pos + 8) !== 0) {
    out.push(pos);
    pos += Math.ceil((12 + buf.readUInt32LE(pos + 8)) / 512) * 512;
  }
  return out;
}

async function refusedStream(bytes: Buffer, code: string): Promise<VmxferError> {
  let caught: unknown;
  try {
    const disk = await vmdkStreamReader.open(chunkedStream(bytes, 3), { name: 'in.vmdk' });
    for await (const _ of disk.extents()) void _;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof VmxferError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, /^in\.vmdk/);
  return caught;
}

test('vmdk stream reader errors: TRUNCATED (a grain the head lists is missing), MISSING_EOS, GRAIN_OUT_OF_ORDER, BAD_MARKER, NOT_STREAM_OPTIMIZED', async () => {
  const image = await readFile(await cachedVmdk(SMALL_DISK, 'streamOptimized'));
  const grains = grainMarkers(image);
  assert.ok(grains.length > 10);
  const last = grains[grains.length - 1]!;
  const end = last + Math.ceil((12 + image.readUInt32LE(last + 8)) / 512) * 512;
  const cut = await refusedStream(image.subarray(0, last), 'VMDK_TRUNCATED');
  assert.match(cut.message, new RegExp(`after ${grains.length - 1} grains, but the grain tables in its head list ${grains.length}`));
  // With the directory deferred to a footer (VMware's layout) only the end-of-stream marker ends a stream.
  const footerLayout = Buffer.from(image.subarray(0, end));
  footerLayout.writeBigUInt64LE(0xffffffffffffffffn, 56);
  await refusedStream(footerLayout, 'VMDK_MISSING_EOS');
  const swapped = Buffer.from(image);
  swapped.writeBigUInt64LE(image.readBigUInt64LE(grains[0]!), grains[1]!); // grain 1 claims grain 0's LBA
  await refusedStream(swapped, 'VMDK_GRAIN_OUT_OF_ORDER');
  const badMarker = Buffer.from(image);
  badMarker.fill(0, end, end + 512);
  badMarker.writeUInt32LE(9, end + 12);
  badMarker.writeUInt32LE(1, end);
  await refusedStream(badMarker, 'VMDK_BAD_MARKER');
  const sparse = await readFile(await cachedVmdk(SMALL_DISK, 'monolithicSparse'));
  await refusedStream(sparse.subarray(0, 64 * 1024), 'VMDK_NOT_STREAM_OPTIMIZED');
});

test('vmdk stream reader: a qemu-img stream whose last grain is incompressible (no zero sector after it, no end-of-stream marker) ends at EOF and matches qemu', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const raw = join(dir, 'tail.raw');
    // 3 MiB: 64 KiB grains, the last one random so deflate cannot leave slack after it.
    await writeFile(raw, Buffer.concat([Buffer.alloc(1024 * 1024), randomBytes(2 * 1024 * 1024)]));
    const image = join(dir, 'tail.vmdk');
    await qemuImg(['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, image]);
    const bytes = await readFile(image);
    const grains = grainMarkers(bytes);
    const last = grains[grains.length - 1]!;
    assert.equal(last + Math.ceil((12 + bytes.readUInt32LE(last + 8)) / 512) * 512, bytes.length, 'the file ends right after its last grain');
    const disk = await vmdkStreamReader.open(chunkedStream(bytes, 11), { name: 'tail.vmdk' });
    await assertSourceMatchesRaw(disk, raw);
  } finally {
    await cleanup();
  }
});

test('vmdk shared fixture iotest-version3.vmdk (VMware stream, GD at end, 16 GiB) matches qemu, seekable and streamed', async (t) => {
  const src = join(SHARED_FIXTURES, 'iotest-version3.vmdk.bz2');
  if (!existsSync(src)) return t.skip(`shared fixture ${src} is absent`);
  const { dir, cleanup } = await tempDir();
  try {
    const img = join(dir, 'iotest-version3.vmdk');
    await run('sh', ['-c', `bzip2 -dc "${src}" > "${img}"`]);
    const oracle = await qemuToRaw(img, dir, 'vmdk');
    const disk = await openDisk(img);
    assert.equal(disk.info.details?.['headerVersion'], 3);
    assert.equal(disk.info.subformat, 'streamOptimized');
    assert.equal(disk.virtualSize, 17179869184);
    const qemuMap: Array<{ length: number; data: boolean }> = JSON.parse(await qemuImg(['map', '--output=json', img]));
    assert.equal(disk.info.allocatedBytes, qemuMap.filter((m) => m.data).reduce((n, m) => n + m.length, 0));
    await assertSourceMatchesSparseRaw(disk, oracle);
    await disk.close();
    const streamed = await vmdkStreamReader.open(createReadStream(img), { name: img });
    await assertSourceMatchesSparseRaw(streamed, oracle);
  } finally {
    await cleanup();
  }
});
