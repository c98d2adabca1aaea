import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { vmxError } from '../../agent/core/errors.js';
import { JOB } from '../../agent/jobs/error-codes.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { ebsCheckpointId, isEbsCheckpoint, type EbsCheckpoint } from '../../agent/ebs/snapshot-checkpoint.js';
import { uploadToEbs } from '../../agent/ebs/ebs-upload.js';
import { BlockSet } from '../../agent/ebs/block-set.js';
import { ebsUploadWorkflow, type EbsWorkflowRequest } from '../../agent/workflows/ebs-upload.js';
import { MemoryJournal } from '../../agent/workflows/memory-journal.js';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';
import { tempDir } from '../helpers/tmp.js';

const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };

test('the lease check runs right before CompleteSnapshot (EBS direct APIs protocol fake): a fenced run sends no CompleteSnapshot, leaves the snapshot pending and every block in the checkpoint; the new owner completes it without sending a block again', async () => {
  const fake = await Ec2QueryFake.start();
  const work = await tempDir('vmxfer-ebs-fence-');
  try {
    const source = join(work.dir, 'disk.raw');
    const blocks = 7;
    await writeFile(source, randomBytes(blocks * BLOCK - 4321));
    assert.equal(BLOCK, MiB / 2);
    const destination = 'ebs://eu-west-1';
    const checkpoints = new FileCheckpointStore<EbsCheckpoint>(join(work.dir, 'checkpoints'), isEbsCheckpoint);
    const upload: EbsWorkflowRequest['upload'] = {
      source, destination, concurrency: 3, resume: false, snapshot: { description: 'fence test' }, checkpoints,
      connection: { endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 4 } },
    };
    const fenceCalls: number[] = [];
    const run = ebsUploadWorkflow({ upload }, {
      journal: new MemoryJournal(), poll: POLL, signal: new AbortController().signal,
      // The first check (before StartSnapshot) passes; the job passes to another agent during the blocks.
      fence: async () => {
        fenceCalls.push(fake.ebs.callsOf('PutSnapshotBlock').length);
        if (fenceCalls.length > 1) throw vmxError(JOB.FENCED, 'job taken over in the test');
      },
    });
    await assert.rejects(run, (e: { code?: string }) => e.code === 'JOB_FENCED');
    assert.deepEqual(fenceCalls, [0, blocks], 'checked before the start and once more after every block was confirmed');
    assert.deepEqual(fake.ebs.calls.filter((c) => c.action === 'CompleteSnapshot'), [], 'no CompleteSnapshot request reached the fake');
    const [snapshotId] = [...fake.ebs.snapshots.keys()];
    assert.equal(fake.ebs.snapshots.size, 1);
    assert.equal(fake.ebs.snapshots.get(snapshotId!)!.status, 'pending');
    const cp = await checkpoints.load(ebsCheckpointId(source, destination));
    assert.equal(cp?.snapshotId, snapshotId);
    assert.equal(cp?.completeSent, undefined);
    assert.equal(BlockSet.fromBase64((cp!.volumeSizeGiB * 1024 ** 3) / BLOCK, cp!.confirmed)!.size, blocks, 'the new owner finds every block in the checkpoint');

    const puts = fake.ebs.callsOf('PutSnapshotBlock').length;
    const resumed = await uploadToEbs({ ...upload, resume: true, poll: POLL, signal: new AbortController().signal });
    assert.equal(resumed.snapshotId, snapshotId);
    assert.equal(resumed.blocksSent, 0);
    assert.equal(resumed.blocksResumed, blocks);
    assert.equal(fake.ebs.callsOf('PutSnapshotBlock').length, puts, 'no block sent again');
    assert.equal(fake.ebs.callsOf('CompleteSnapshot').length, 1);
    assert.equal(fake.ebs.snapshots.get(snapshotId!)!.status, 'completed');
  } finally {
    await fake.close();
    await work.cleanup();
  }
});
