import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CompleteSnapshotCommand, EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';

let fake: Ec2QueryFake;
let ebs: EBSClient;

before(async () => {
  fake = await Ec2QueryFake.start();
  ebs = new EBSClient({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, maxAttempts: 1 });
});
after(() => fake.close());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

async function rejection(p: Promise<unknown>): Promise<{ name: string; Reason?: string; message: string }> {
  return p.then(() => assert.fail('expected a rejection'), (e: { name: string; Reason?: string; message: string }) => e);
}

test('EBS direct APIs protocol fake through the official client: ClientToken idempotency and ConflictException, ValidationException reasons, a parent chain read back with ListSnapshotBlocks pages and GetSnapshotBlock checksums', async () => {
  const start = { VolumeSize: 1, ClientToken: 'tok-1', Tags: [{ Key: 'k', Value: 'v' }] };
  const a = await ebs.send(new StartSnapshotCommand(start));
  assert.equal(a.Status, 'pending');
  assert.equal(a.BlockSize, BLOCK);
  assert.equal((await ebs.send(new StartSnapshotCommand(start))).SnapshotId, a.SnapshotId, 'the same token returns the same snapshot');
  assert.equal((await rejection(ebs.send(new StartSnapshotCommand({ ...start, VolumeSize: 2 })))).name, 'ConflictException');
  assert.equal((await rejection(ebs.send(new StartSnapshotCommand({ VolumeSize: 70_000 })))).Reason, 'INVALID_VOLUME_SIZE');
  assert.equal((await rejection(ebs.send(new StartSnapshotCommand({ VolumeSize: 1, KmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/x' })))).Reason, 'INVALID_PARAMETER_VALUE');
  const id = a.SnapshotId!;
  const blocks = Array.from({ length: 150 }, (_, i) => Buffer.alloc(BLOCK, i + 1));
  for (const [i, b] of blocks.entries()) await ebs.send(new PutSnapshotBlockCommand({ SnapshotId: id, BlockIndex: i * 3, BlockData: b, DataLength: BLOCK, Checksum: sha(b), ChecksumAlgorithm: 'SHA256' }));
  const bad = await rejection(ebs.send(new PutSnapshotBlockCommand({ SnapshotId: id, BlockIndex: 1, BlockData: blocks[0], DataLength: BLOCK, Checksum: sha(blocks[1]!), ChecksumAlgorithm: 'SHA256' })));
  assert.equal(bad.name, 'ValidationException');
  assert.match(bad.message, /checksum/);
  assert.equal((await rejection(ebs.send(new PutSnapshotBlockCommand({ SnapshotId: id, BlockIndex: 2048, BlockData: blocks[0], DataLength: BLOCK, Checksum: sha(blocks[0]!), ChecksumAlgorithm: 'SHA256' })))).Reason, 'INVALID_BLOCK');
  assert.equal((await rejection(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id })))).name, 'ValidationException', 'a pending snapshot cannot be read');
  const outer = createHash('sha256');
  for (const b of blocks) outer.update(createHash('sha256').update(b).digest());
  assert.equal((await ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 150, Checksum: outer.digest('base64'), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR' }))).Status, 'pending');
  assert.equal(fake.ebs.describe(id)!.state, 'pending');
  assert.equal(fake.ebs.describe(id)!.state, 'completed');

  const child = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ParentSnapshotId: id }));
  const fresh = Buffer.alloc(BLOCK, 0xee);
  await ebs.send(new PutSnapshotBlockCommand({ SnapshotId: child.SnapshotId, BlockIndex: 1, BlockData: fresh, DataLength: BLOCK, Checksum: sha(fresh), ChecksumAlgorithm: 'SHA256' }));
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: child.SnapshotId, ChangedBlocksCount: 1 }));
  fake.ebs.describe(child.SnapshotId!);
  fake.ebs.describe(child.SnapshotId!);
  const listed: number[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: child.SnapshotId, MaxResults: 100, NextToken: token }));
    listed.push(...page.Blocks!.map((b) => b.BlockIndex!));
    token = page.NextToken;
    pages++;
  } while (token);
  assert.equal(pages, 2);
  assert.deepEqual(listed, [0, 1, ...blocks.slice(1).map((_, i) => (i + 1) * 3)], 'the child lists its own block and its parent\'s');
  const first = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: child.SnapshotId, MaxResults: 100 }));
  const got = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: child.SnapshotId, BlockIndex: 3, BlockToken: first.Blocks![2]!.BlockToken }));
  const data = Buffer.from(await got.BlockData!.transformToByteArray());
  assert.deepEqual(data, blocks[1], 'block 3 comes from the parent');
  assert.equal(got.Checksum, sha(data));
});
