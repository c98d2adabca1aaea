import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { diskBlocks, EBS_BLOCK, type DiskBlock } from '../../agent/ebs/disk-blocks.js';
import { parseEbsUrl } from '../../agent/ebs/ebs-url.js';
import { BlockSet } from '../../agent/ebs/block-set.js';
import { dataExtent, emptyExtent } from '../../agent/disk/extent.js';
import { memoryDisk } from '../helpers/memory-disk.js';
import { isVmxferError } from '../../agent/core/errors.js';

const B = EBS_BLOCK;

async function blocksOf(size: number, extents: Parameters<typeof memoryDisk>[1]): Promise<DiskBlock[]> {
  const out: DiskBlock[] = [];
  for await (const b of diskBlocks(memoryDisk(size, extents))) out.push(b);
  return out;
}

test('diskBlocks: data straddling block boundaries is assembled per 512 KiB block, holes become one zero run, all-zero data is a zero block, the unaligned end is padded', async () => {
  const a = randomBytes(B + 1000);
  const size = 10 * B + 4096;
  const blocks = await blocksOf(size, [
    emptyExtent('unallocated', 0, B - 500),
    dataExtent(B - 500, a),
    emptyExtent('zero', 2 * B + 500, 3 * B - 500),
    dataExtent(5 * B, Buffer.alloc(B)),
    emptyExtent('unallocated', 6 * B, 4 * B),
    dataExtent(10 * B, Buffer.from(randomBytes(4096))),
  ]);
  assert.deepEqual(blocks.map((b) => (b.kind === 'data' ? ['data', b.index] : ['zero', b.index, b.count])), [
    ['data', 0], ['data', 1], ['data', 2], ['zero', 3, 7], ['data', 10],
  ]);
  const d = blocks.filter((b) => b.kind === 'data') as Array<Extract<DiskBlock, { kind: 'data' }>>;
  assert.ok(d.every((b) => b.data.length === B));
  assert.deepEqual(d[0]!.data.subarray(B - 500), a.subarray(0, 500));
  assert.deepEqual(d[2]!.data.subarray(0, 500), a.subarray(500 + B));
  assert.ok(d[2]!.data.subarray(500).every((x) => x === 0));
  assert.ok(d[3]!.data.subarray(4096).every((x) => x === 0), 'the last block is padded with zeros');
});

test('parseEbsUrl: region and optional parent snapshot; anything else is EBS_BAD_URL', () => {
  assert.deepEqual(parseEbsUrl('ebs://eu-west-1'), { region: 'eu-west-1', parentSnapshotId: undefined });
  assert.deepEqual(parseEbsUrl('ebs://us-gov-west-1/snap-0123456789abcdef0'), { region: 'us-gov-west-1', parentSnapshotId: 'snap-0123456789abcdef0' });
  for (const bad of ['ebs://', 'ebs://EU-WEST-1', 'ebs://eu-west-1/', 'ebs://eu-west-1/vol-12345678', 'ebs://eu-west-1/snap-12345678/x', 's3://b/k']) {
    assert.throws(() => parseEbsUrl(bad), (e: unknown) => isVmxferError(e) && e.code === 'EBS_BAD_URL', bad);
  }
});

test('BlockSet: members survive the checkpoint round trip; within() walks a range in order', () => {
  const s = new BlockSet(100);
  for (const i of [0, 7, 8, 63, 99, 7]) s.add(i);
  assert.equal(s.size, 5);
  const back = BlockSet.fromBase64(100, s.toBase64())!;
  assert.equal(back.size, 5);
  assert.deepEqual([...back.within(5, 60)], [7, 8, 63]);
  assert.equal(BlockSet.fromBase64(2000, s.toBase64()), undefined, 'a bitmap of another volume size is refused');
});
