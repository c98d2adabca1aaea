import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { streamOptimizedWriter } from '../../agent/formats/vmdk/stream-optimized-writer.js';
import { createQcow2Writer } from '../../agent/formats/qcow2/qcow2-writer.js';
import { WorkerPool } from '../../agent/pipeline/worker-pool.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

// A buffer moved from a worker counts in the main thread as newly allocated external memory; an
// upload holding them while it waits on the network ran a full mark-compact per 64 MiB of output
// (encode-chunks.ts). The grain records must arrive in the shared output slab instead.
test('the stream-optimized VMDK writer yields its grain records from a shared output slab, reused once the consumer moves on', async () => {
  const { dir, cleanup } = await tempDir();
  const pool = new WorkerPool(2);
  try {
    const raw = join(dir, 'disk.raw');
    await writeFile(raw, randomBytes(24 * MiB));
    const disk = await openDisk(raw, { format: 'raw' });
    const slabBytes = new Set<number>();
    let large = 0;
    for await (const out of streamOptimizedWriter.write(disk, { pool, chunkBytes: MiB })) {
      if (!Buffer.isBuffer(out) || out.length <= 64 * 1024) continue; // the head (64 KiB), grain tables and footer are small buffers of their own
      large++;
      assert.ok(out.buffer instanceof SharedArrayBuffer, `a ${out.length}-byte output is a ${out.buffer.constructor.name}, not a view of the shared slab`);
      slabBytes.add(out.buffer.byteLength);
    }
    await disk.close();
    assert.equal(large, 24, 'one record run per 1 MiB chunk of random data');
    // Each message from a worker wraps the slab's memory in a new SharedArrayBuffer object: same memory, same size.
    assert.equal(slabBytes.size, 1, `every run is a view of one slab's memory (sizes seen: ${[...slabBytes].join(', ')})`);
  } finally {
    await pool.destroy();
    await cleanup();
  }
});

test('the compressed qcow2 writer yields its clusters from a shared output slab', async () => {
  const { dir, cleanup } = await tempDir();
  const pool = new WorkerPool(2);
  try {
    const raw = join(dir, 'disk.raw');
    // Text-like clusters: each deflates, so every cluster of the output is a view into a chunk's payload.
    await writeFile(raw, Buffer.alloc(8 * MiB, 'vmxfer shared output slab, compressed qcow2 clusters\n'));
    const disk = await openDisk(raw, { format: 'raw' });
    let clusters = 0;
    for await (const out of createQcow2Writer({ compress: true }).write(disk, { pool, chunkBytes: MiB })) {
      if (Buffer.isBuffer(out) && out.buffer instanceof SharedArrayBuffer) clusters++;
    }
    await disk.close();
    assert.equal(clusters, 128, 'every deflated 64 KiB cluster of the 8 MiB disk is a view of the shared slab');
  } finally {
    await pool.destroy();
    await cleanup();
  }
});
