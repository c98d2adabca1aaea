import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ebsCheckpointId } from '../../agent/ebs/snapshot-checkpoint.js';
import { join } from 'node:path';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { sha256File } from '../helpers/hash.js';
import { writeSparseDisk } from '../helpers/changed-disk.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';

/** docs/api.md "EBS snapshot destinations": upload jobs to ebs:// through a spawned daemon and the EBS direct APIs protocol fake. */
const MiB = 1024 * 1024;
let fake: Ec2QueryFake;
let d: TestDaemon;
let work: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  fake = await Ec2QueryFake.start();
  work = await tempDir('vmxfer-ebs-daemon-');
  d = await startDaemon({
    sourceRoots: [work.dir],
    env: { AWS_ACCESS_KEY_ID: 'AKIDFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake-secret', AWS_EC2_METADATA_DISABLED: 'true' },
    config: { cloud: { aws_endpoint: fake.url, aws_region: 'eu-west-1', poll_seconds: 0.01 } },
  });
});
after(async () => {
  await d?.stop();
  if (d) await rm(d.stateDir, { recursive: true, force: true });
  await fake?.close();
  await work?.cleanup();
});

async function runJob(body: unknown): Promise<any> {
  const r = await d.api('POST', '/v1/jobs', body);
  assert.equal(r.status, 201, r.text);
  const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  return job;
}

async function volumeSha256(snapshotId: string, size: number): Promise<string> {
  const vol = join(work.dir, `${snapshotId}.vol`);
  await fake.ebs.writeVolume(snapshotId, vol, size);
  const h = await sha256File(vol);
  await rm(vol);
  return h;
}

test('an upload job to ebs://REGION writes a full snapshot, then one to ebs://REGION/snap-PARENT of the changed disk writes an incremental one with import aws-image (EC2 Query API protocol fake); each reconstructed volume equals its source', async () => {
  const size = 8 * MiB;
  const src = join(work.dir, 'disk.raw');
  await writeSparseDisk(src, size, 3, MiB);
  const full = await runJob({ source: src, destination: 'ebs://eu-west-1' });
  const s1 = full.result.snapshot;
  assert.match(s1.snapshotId, /^snap-/);
  assert.equal(s1.blocks, 1024 * MiB / BLOCK, 'a 1 GiB volume (the smallest) of 512 KiB blocks');
  assert.equal(s1.blocksSent + s1.zeroBlocksSkipped, size / BLOCK, 'each block of the source is sent or skipped as zero');
  assert.ok(s1.blocksSent > 0 && s1.blocksSent <= 3 * 3, `blocks sent: ${s1.blocksSent}`);
  assert.equal(full.result.bytesSent, s1.blocksSent * BLOCK);
  assert.equal(full.result.etag, s1.checksum);
  assert.equal(await volumeSha256(s1.snapshotId, size), await sha256File(src));

  const fh = await open(src, 'r+');
  await fh.write(randomBytes(4096), 0, 4096, 5 * BLOCK + 100);
  await fh.close();
  const incr = await runJob({ source: src, destination: `ebs://eu-west-1/${s1.snapshotId}`, import: { target: 'aws-image' } });
  const s2 = incr.result.snapshot;
  assert.equal(s2.parentSnapshotId, s1.snapshotId);
  assert.equal(s2.blocksSent + s2.zeroBlocksSkipped + s2.zeroBlocksWritten, size / BLOCK, 'the incremental snapshot accounts for every block of the source');
  assert.equal(await volumeSha256(s2.snapshotId, size), await sha256File(src));
  const task = [...fake.world.tasks.values()].find((t) => t.kind === 'import-image' && t.params['DiskContainer.1.SnapshotId'] === s2.snapshotId);
  assert.ok(task, 'ImportImage took the new snapshot as its disk container');
  assert.deepEqual(incr.result.import.resourceIds, [task.resultId]);
  assert.equal(incr.cloudTask.kind, 'aws-image');
});

test('ebs:// submit refusals name the field: a bad URL, an import other than aws-image, object options, a format, sync', async () => {
  const src = join(work.dir, 'small.raw');
  await writeSparseDisk(src, MiB, 1, 4096);
  for (const [body, field] of [
    [{ destination: 'ebs://nowhere' }, 'destination'],
    [{ destination: 'ebs://eu-west-1/snap-xyz' }, 'destination'],
    [{ destination: 'ebs://eu-west-1', import: { target: 'aws-snapshot' } }, 'import.target'],
    [{ destination: 'ebs://eu-west-1', options: { partSize: '8MiB' } }, 'options.partSize'],
    [{ destination: 'ebs://eu-west-1', format: 'vmdk' }, 'format'],
    [{ destination: 'ebs://eu-west-1', sync: { every: '1h' } }, 'sync'],
  ] as const) {
    const r = await d.api('POST', '/v1/jobs', { source: src, ...body });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.field, field, r.text);
  }
});

test('an upload job to ebs://REGION/snap-PARENT with options.changedBlocks writes only the listed blocks (PutSnapshotBlock in the EBS direct APIs protocol fake log) and the child volume equals the changed disk', async () => {
  const size = 8 * MiB;
  const src = join(work.dir, 'cbt-disk.raw');
  await writeSparseDisk(src, size, 3, MiB);
  const full = await runJob({ source: src, destination: 'ebs://eu-west-1' });
  const changed = [2, 11];
  const fh = await open(src, 'r+');
  for (const i of changed) await fh.write(randomBytes(BLOCK), 0, BLOCK, i * BLOCK);
  await fh.close();
  const list = join(work.dir, 'cbt.json');
  await writeFile(list, JSON.stringify({ version: 1, virtualSize: size, extents: changed.map((i) => ({ offset: i * BLOCK + 100, length: 10 })) }));
  const inc = await runJob({ source: src, destination: `ebs://eu-west-1/${full.result.snapshot.snapshotId}`, options: { changedBlocks: list } });
  const s = inc.result.snapshot;
  const puts = fake.ebs.callsOf('PutSnapshotBlock').filter((c) => c.snapshotId === s.snapshotId);
  assert.deepEqual(puts.map((c) => c.blockIndex).sort((a, b) => a! - b!), changed);
  assert.deepEqual([s.blocksRead, s.blocksWritten], [2, 2]);
  assert.equal(await volumeSha256(s.snapshotId, size), await sha256File(src));
});

test('an EBS upload job with options.changedBlocks killed with SIGKILL mid-snapshot, its list rewritten before the restart: the job starts a new snapshot with the new list (the old one confirmed blocks of another list) and the volume equals the disk', async () => {
  const size = 8 * MiB;
  const src = join(work.dir, 'cbt-kill.raw');
  await writeSparseDisk(src, size, 3, MiB);
  const full = await runJob({ source: src, destination: 'ebs://eu-west-1' });
  const changed = [2, 5, 11];
  const fh = await open(src, 'r+');
  for (const i of changed) await fh.write(randomBytes(BLOCK), 0, BLOCK, i * BLOCK);
  await fh.close();
  const list = join(work.dir, 'cbt-kill.json');
  const writeList = (blocks: number[]) => writeFile(list, JSON.stringify({ version: 1, virtualSize: size, extents: blocks.map((i) => ({ offset: i * BLOCK, length: BLOCK })) }));
  await writeList(changed.slice(0, 2));
  const destination = `ebs://eu-west-1/${full.result.snapshot.snapshotId}`;
  fake.ebs.putDelayMs = 400;
  const r = await d.api('POST', '/v1/jobs', { source: src, destination, options: { changedBlocks: list, concurrency: 1 } });
  assert.equal(r.status, 201, r.text);
  const cpFile = join(d.stateDir, 'checkpoints', `${ebsCheckpointId(await realpath(src), destination)}.json`);
  let killedSnapshot: string | undefined;
  for (const deadline = Date.now() + 30_000; !killedSnapshot && Date.now() < deadline; await sleep(10)) {
    const cp = await readFile(cpFile, 'utf8').then((t) => JSON.parse(t) as { snapshotId?: string; confirmed: string }, () => undefined);
    if (cp?.snapshotId && Buffer.from(cp.confirmed, 'base64').some((b) => b !== 0)) killedSnapshot = cp.snapshotId;
  }
  assert.ok(killedSnapshot, 'a block was confirmed before the kill');
  await d.kill();
  fake.ebs.putDelayMs = 0;
  await writeList(changed);
  await d.restart();
  const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  const s = job.result.snapshot;
  assert.notEqual(s.snapshotId, killedSnapshot, 'the snapshot of the other list is abandoned');
  assert.equal(s.blocksRead, changed.length);
  assert.equal(await volumeSha256(s.snapshotId, size), await sha256File(src));
});
