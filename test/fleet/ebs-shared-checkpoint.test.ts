import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULTS, type AgentConfig } from '../../agent/config/schema.js';
import { openDaemonStores, type DaemonStores } from '../../agent/daemon/open-stores.js';
import { AgentMetrics } from '../../agent/metrics/agent-metrics.js';
import { ProgressTracker } from '../../agent/core/progress.js';
import { PartBoard } from '../../agent/jobs/part-board.js';
import { Cutover } from '../../agent/workflows/sync.js';
import { MemoryJournal } from '../../agent/workflows/memory-journal.js';
import { runJob, type JobRun } from '../../agent/jobs/job-runner.js';
import { emptyProgress, JOB_SCHEMA, type JobRecord } from '../../agent/jobs/job-types.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import { ebsCheckpointId } from '../../agent/ebs/snapshot-checkpoint.js';
import { BlockSet } from '../../agent/ebs/block-set.js';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';

/** One agent of the fleet: its own state_dir, the stores openDaemonStores picks for the shared job store. */
async function agent(name: string, stateDir: string, url: string, prefix: string, fakeUrl: string): Promise<{ ctx: RunContext; stores: DaemonStores }> {
  const config: AgentConfig = {
    ...structuredClone(DEFAULTS),
    state_dir: stateDir,
    output_roots: [stateDir],
    job_store: { url, prefix, lease_seconds: 5 },
    agent: { name },
    cloud: { ...DEFAULTS.cloud, aws_endpoint: fakeUrl, aws_region: 'eu-west-1', poll_seconds: 0.01 },
  };
  const metrics = new AgentMetrics(name);
  const stores = await openDaemonStores(config, metrics);
  return { stores, ctx: { config, checkpoints: stores.checkpoints, ebsCheckpoints: stores.ebsCheckpoints, metrics, bandwidth: undefined, agentName: name } };
}

function jobRun(signal: AbortSignal): JobRun {
  return {
    progress: new ProgressTracker(), parts: new PartBoard(), signal, journal: new MemoryJournal(), cutover: new Cutover(false),
    onPhase: () => undefined, onValidated: () => undefined, onGuest: () => undefined, onCloudTask: () => undefined, onOutcome: () => undefined,
    onWaiting: () => undefined, onPass: () => undefined, fence: () => Promise.resolve(), holder: 'the test job',
  };
}

function ebsJob(source: string): JobRecord {
  return {
    id: 'job-ebs-takeover', schema: JOB_SCHEMA, version: 1, owner: null, destinationKey: 'ebs://eu-west-1', steps: {}, kind: 'upload', state: 'active', phase: 'uploading',
    source, destination: 'ebs://eu-west-1', format: 'original', options: { concurrency: 2 }, createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
    progress: emptyProgress(), result: null, error: null, attempts: 1,
  };
}

test('an ebs:// job taken over by a second agent on the same Redis continues the first agent\'s snapshot (EBS direct APIs protocol fake): same snapshot id, one StartSnapshot, blocks confirmed before the stop not sent again', { timeout: 120_000 }, async () => {
  const redis = await ensureRedis();
  const prefix = redisPrefix('ebs-takeover');
  const fake = await Ec2QueryFake.start();
  const work = await tempDir('vmxfer-ebs-takeover-');
  const env = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake-secret', AWS_EC2_METADATA_DISABLED: 'true' });
  const opened: DaemonStores[] = [];
  try {
    const blocks = 24;
    const source = join(work.dir, 'disk.raw');
    await writeFile(source, randomBytes(blocks * BLOCK));
    const job = ebsJob(source);
    const a = await agent('agent-a', join(work.dir, 'a'), redis.url, prefix, fake.url);
    const b = await agent('agent-b', join(work.dir, 'b'), redis.url, prefix, fake.url);
    opened.push(a.stores, b.stores);

    // Agent A stops in the middle of the blocks (its job passes on, as after a lapsed lease).
    fake.ebs.putDelayMs = 20;
    const stop = new AbortController();
    const first = runJob(job, a.ctx, jobRun(stop.signal));
    while (fake.ebs.callsOf('PutSnapshotBlock').length < blocks / 3) await sleep(5);
    stop.abort(new Error('agent A stopped in the test'));
    await assert.rejects(first);
    fake.ebs.putDelayMs = 0;
    const cp = await b.stores.ebsCheckpoints.load(ebsCheckpointId(source, job.destination));
    assert.ok(cp?.snapshotId, 'agent B reads agent A\'s checkpoint from the shared store');
    const confirmedByA = BlockSet.fromBase64((cp.volumeSizeGiB * 1024 ** 3) / BLOCK, cp.confirmed)!;
    assert.ok(confirmedByA.size > 0 && confirmedByA.size < blocks, `agent A confirmed ${confirmedByA.size} of ${blocks} blocks`);
    const putsByA = fake.ebs.callsOf('PutSnapshotBlock').length;

    const result = await runJob(job, b.ctx, jobRun(new AbortController().signal));
    const snapshot = result.snapshot!;
    assert.equal(snapshot.snapshotId, cp.snapshotId, 'the same snapshot, continued');
    assert.equal(fake.ebs.calls.filter((c) => c.action === 'StartSnapshot').length, 1);
    assert.equal(fake.ebs.snapshots.size, 1);
    assert.equal(snapshot.blocksResumed, confirmedByA.size);
    assert.equal(snapshot.blocksSent + snapshot.blocksResumed, blocks);
    const puts = fake.ebs.callsOf('PutSnapshotBlock');
    assert.equal(puts.length, putsByA + snapshot.blocksSent, 'agent B sent only the blocks agent A had not confirmed');
    const sentPerBlock = new Map<number, number>();
    for (const p of puts) sentPerBlock.set(p.blockIndex!, (sentPerBlock.get(p.blockIndex!) ?? 0) + 1);
    for (const i of confirmedByA.within(0, blocks)) assert.equal(sentPerBlock.get(i), 1, `block ${i} was confirmed by agent A and sent again`);
    assert.equal(fake.ebs.snapshots.get(snapshot.snapshotId)!.status, 'completed');
    const vol = join(work.dir, 'volume.raw');
    await fake.ebs.writeVolume(snapshot.snapshotId, vol, blocks * BLOCK);
    const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
    assert.equal(await sha(vol), await sha(source), 'the snapshot\'s volume is the source');
    assert.equal(await b.stores.ebsCheckpoints.load(cp.id), undefined, 'the finished snapshot\'s checkpoint is gone from the shared store');
    process.stdout.write(`# agent A confirmed ${confirmedByA.size}/${blocks} blocks (${putsByA} PutSnapshotBlock answered); agent B sent ${snapshot.blocksSent}, resumed ${snapshot.blocksResumed}\n`);
  } finally {
    process.env = env;
    for (const s of opened) await s.close();
    await fake.close();
    await work.cleanup();
  }
});
