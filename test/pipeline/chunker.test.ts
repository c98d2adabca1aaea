import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chunkExtents, type Chunk } from '../../agent/pipeline/chunker.js';
import { BufferSlab } from '../../agent/pipeline/buffer-slab.js';
import { orderedMap } from '../../agent/pipeline/ordered-map.js';
import { WorkerPool } from '../../agent/pipeline/worker-pool.js';
import { dataExtent, emptyExtent, type Extent } from '../../agent/disk/extent.js';

async function collect(extents: Extent[], size: number, slab: BufferSlab) {
  const out: Array<Chunk & { bytes?: Buffer }> = [];
  for await (const c of chunkExtents((async function* () { yield* extents; })(), size, slab)) {
    if (c.kind === 'data') {
      out.push({ ...c, bytes: Buffer.from(slab.view(c.slot, c.length)) });
      slab.release(c.slot);
    } else out.push(c);
  }
  return out;
}

test('the chunker re-cuts extents at slot boundaries, zero-fills gaps and merges empty runs', async () => {
  const slab = new BufferSlab(2, 16);
  const a = randomBytes(10);
  const b = randomBytes(20);
  const size = 16 * 6 + 5;
  const chunks = await collect(
    [emptyExtent('unallocated', 0, 20), dataExtent(20, a), emptyExtent('zero', 30, 40), dataExtent(70, b), emptyExtent('unallocated', 90, size - 90)],
    size,
    slab,
  );
  const render = Buffer.alloc(size);
  a.copy(render, 20);
  b.copy(render, 70);
  let pos = 0;
  for (const c of chunks) {
    assert.equal(c.offset, pos);
    if (c.kind === 'data') assert.deepEqual(c.bytes, render.subarray(c.offset, c.offset + c.length));
    else assert.ok(render.subarray(c.offset, c.offset + c.length).every((x) => x === 0));
    assert.equal(c.offset % 16, 0, 'chunks start at slot boundaries');
    pos += c.length;
  }
  assert.equal(pos, size);
  assert.deepEqual(chunks.map((c) => c.kind), ['empty', 'data', 'empty', 'data', 'data', 'empty']);
  assert.equal(slab.inUse, 0);
});

test('a slab slot is reused only after release: a full slab holds back the producer', async () => {
  const slab = new BufferSlab(1, 8);
  const first = await slab.acquire();
  let got: number | undefined;
  const waiting = slab.acquire().then((s) => (got = s));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got, undefined);
  slab.release(first);
  await waiting;
  assert.equal(got, first);
});

test('orderedMap keeps input order with a bounded window and pulls no further than the window', async () => {
  let pulled = 0;
  async function* input() {
    for (let i = 0; i < 20; i++) {
      pulled++;
      yield i;
    }
  }
  const seen: number[] = [];
  for await (const v of orderedMap(input(), async (i) => {
    await new Promise((r) => setTimeout(r, (20 - i) % 5));
    return i * 2;
  }, 4)) {
    seen.push(v);
    assert.ok(pulled <= seen.length + 4, `pulled ${pulled} with ${seen.length} consumed`);
  }
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i * 2));
});

test('the Piscina pool and the inline pool give the same results on shared slab slots', async () => {
  const slab = new BufferSlab(4, 4096);
  const slots = await Promise.all([0, 1, 2, 3].map(() => slab.acquire()));
  for (const s of slots) slab.view(s).fill(s + 1);
  const threaded = new WorkerPool(2);
  const inline = new WorkerPool(0);
  try {
    for (const s of slots) {
      const job = { task: 'byte-sum', memory: slab.memory, byteOffset: s * slab.slotSize, length: slab.slotSize };
      assert.equal(await threaded.run<number>(job), 4096 * (s + 1));
      assert.equal(await inline.run<number>(job), 4096 * (s + 1));
    }
  } finally {
    await threaded.destroy();
  }
});
