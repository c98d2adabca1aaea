import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainedDisk } from '../../agent/disk/chain.js';
import { dataExtent, emptyExtent } from '../../agent/disk/extent.js';
import { memoryDisk, renderDisk } from '../helpers/memory-disk.js';

test('a chained disk reads the parent under unallocated child ranges and hides it under zero ranges', async () => {
  const parent = memoryDisk(40, [dataExtent(0, Buffer.alloc(25, 0x70)), emptyExtent('unallocated', 25, 15)]);
  const child = memoryDisk(48, [
    emptyExtent('unallocated', 0, 5),
    dataExtent(5, Buffer.alloc(5, 0x43)),
    emptyExtent('zero', 10, 5),
    emptyExtent('unallocated', 15, 33),
  ]);
  const merged = new ChainedDisk(child, parent);
  const want = Buffer.alloc(48);
  want.fill(0x70, 0, 5);
  want.fill(0x43, 5, 10);
  want.fill(0x70, 15, 25);
  assert.deepEqual(await renderDisk(merged), want);
  let pos = 0;
  for await (const e of merged.extents()) {
    assert.equal(e.offset, pos);
    pos += e.length;
  }
  assert.equal(pos, 48, 'extents tile the child, including the part beyond the smaller parent');
  assert.equal(merged.info.parent?.format, 'memory');
});
