import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignedBufferPool } from '../../agent/io/aligned-buffer-pool.js';
import { BufferSlab } from '../../agent/pipeline/buffer-slab.js';
import { chunkExtents } from '../../agent/pipeline/chunker.js';
import { dataExtent, emptyExtent, sliceExtent, type Extent } from '../../agent/disk/extent.js';

const KiB = 1024;

test('AlignedBufferPool reuses a released buffer (same memory), never one it did not hand out, and keeps at most `keep` idle', () => {
  const pool = new AlignedBufferPool(64 * KiB, 1);
  const a = pool.acquire(64 * KiB);
  const b = pool.acquire(10 * KiB);
  assert.equal(a.length, 64 * KiB);
  assert.equal(b.length, 10 * KiB);
  // Page alignment: both start at offset 0 of their own WebAssembly.Memory (page-aligned mappings).
  assert.equal(a.byteOffset, 0);
  assert.equal(b.byteOffset, 0);
  pool.release(a);
  pool.release(b);
  assert.equal(pool.idleCount, 1);
  const c = pool.acquire(64 * KiB);
  assert.equal(c.buffer, a.buffer, 'the released buffer is reused');
  pool.release(c.subarray(0, 4 * KiB));
  pool.release(Buffer.alloc(64 * KiB));
  assert.equal(pool.idleCount, 0, 'slices and foreign buffers are not taken back');
  const big = pool.acquire(128 * KiB);
  assert.equal(big.length, 128 * KiB);
});

test('the chunker hands each whole data extent back once its bytes are in the slab, and never a slice', async () => {
  const slab = new BufferSlab(4, 64 * KiB);
  const whole = Buffer.alloc(96 * KiB, 1);
  const sliced = Buffer.alloc(64 * KiB, 2);
  async function* extents(): AsyncGenerator<Extent> {
    yield dataExtent(0, whole);
    yield emptyExtent('unallocated', 96 * KiB, 32 * KiB);
    yield sliceExtent(dataExtent(128 * KiB, sliced), 128 * KiB, 160 * KiB);
    yield emptyExtent('zero', 160 * KiB, 32 * KiB);
  }
  const recycled: Buffer[] = [];
  const seen: string[] = [];
  for await (const c of chunkExtents(extents(), 192 * KiB, slab, undefined, (b) => recycled.push(b))) {
    seen.push(`${c.kind}@${c.offset / KiB}`);
    if (c.kind === 'data') {
      const view = slab.view(c.slot, c.length);
      if (c.offset === 64 * KiB) assert.deepEqual([view[0], view[32 * KiB - 1], view[32 * KiB], view[64 * KiB - 1]], [1, 1, 0, 0]);
      slab.release(c.slot);
    }
  }
  assert.deepEqual(seen, ['data@0', 'data@64', 'data@128']);
  assert.equal(recycled.length, 2);
  assert.equal(recycled[0], whole);
  assert.notEqual(recycled[1], sliced, 'the slice object is handed back, never the buffer it views');
});
