import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { openFeed } from '../helpers/job-feed.js';
import { interruptWhenReady } from '../helpers/killable-cli.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';

/**
 * ECS exports of an image with two data disks (three objects: system, data disk 1, data disk 2), the
 * objects read from the ECS RPC API protocol fake's OSS routes through a fault proxy that logs every
 * request and holds the GETs of data disk 2 after the first two, so a cancel, a kill or a SIGINT lands
 * while data disk 2 downloads and the system disk and data disk 1 have finished.
 */
const REGION = 'cn-hangzhou';
const BUCKET = 'ecs-exports';
const ALI_ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret };
/** 128 KiB ranges: 3 for the system disk, 2 for data disk 1, 5 for data disk 2. */
const SIZES = [300_000, 200_000, 600_000];
const RANGE = 128 * 1024;

let ecs: EcsRpcFake;
let proxy: FaultProxy;
let d: TestDaemon;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  ecs = await EcsRpcFake.start();
  ecs.world.buckets.set(BUCKET, { storageClass: 'Standard' });
  proxy = await startFaultProxy(`http://${ecs.host}`);
  d = await startDaemon({
    sourceRoots: [dir],
    env: ALI_ENV,
    config: {
      stores: { oss_endpoint: ossEndpoint(), oss_region: `oss-${REGION}`, s3_path_style: true },
      cloud: { ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
      transfer: { part_size: '128KiB', concurrency: 4 },
    },
  });
});
after(async () => {
  await d?.stop();
  if (d) await rm(d.stateDir, { recursive: true, force: true });
  await proxy?.close();
  await ecs?.close();
  await cleanup?.();
});

/** Path-style OSS through the proxy (ali-oss with a localhost endpoint, as the other ECS tests). */
function ossEndpoint(): string {
  return `http://localhost:${new URL(proxy.endpoint).port}`;
}

/** A fresh image with two data disks whose export objects hold fresh random bytes; its three object keys. */
function threeDiskImage(): { imageId: string; keys: string[] } {
  const imageId = ecsId('m');
  ecs.world.images.set(imageId, {
    id: imageId, region: REGION, name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0,
    disks: [{ type: 'system', size: 40, encrypted: false }, { type: 'data', size: 100, encrypted: false }, { type: 'data', size: 200, encrypted: false }],
  });
  ecs.world.exportDiskBytes = SIZES.map((n) => randomBytes(n));
  return { imageId, keys: [`web01_${imageId}_system.qcow2`, `web01_${imageId}_data_xvdb.qcow2`, `web01_${imageId}_data_xvdc.qcow2`] };
}

/** GETs of data disk 2's object after the first `pass` are held (20 s), so its download stops `pass` ranges in. */
function holdDataDisk2(key: string, pass = 2): void {
  let seen = 0;
  proxy.setPlan(({ method, url }) => (method === 'GET' && url.includes(key) && ++seen > pass ? { kind: 'stall', ms: 20_000 } : undefined));
}

/** GET requests per object key in the proxy log from entry `from` on. */
function getsPerKey(keys: string[], from = 0): number[] {
  const log = proxy.log.slice(from).filter((e) => e.method === 'GET');
  return keys.map((k) => log.filter((e) => e.url.includes(k)).length);
}

function checkpointsIn(stateDir: string): FileCheckpointStore<DownloadCheckpoint> {
  return new FileCheckpointStore<DownloadCheckpoint>(join(stateDir, 'downloads'), isDownloadCheckpoint);
}

/** Whether data disk 2's download checkpoint holds `ranges` ranges (its partial file is that far in). */
async function dataDisk2RangesIn(stateDir: string, key: string, ranges = 2): Promise<boolean> {
  const all = await checkpointsIn(stateDir).list().catch(() => []);
  return all.some((c) => c.source.endsWith(`/${key}`) && c.ranges.length >= ranges);
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${d.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function leftovers(stateDir: string, keys: string[]): Promise<DownloadCheckpoint[]> {
  return (await checkpointsIn(stateDir).list().catch(() => [])).filter((c) => keys.some((k) => c.source.endsWith(`/${k}`)));
}

async function submitted(imageId: string, destination: string): Promise<string> {
  const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination, export: { cloud: 'ecs', imageId, format: 'qcow2', bucket: BUCKET, prefix: 'web01' } });
  assert.equal(r.status, 201, r.text);
  return r.json.job.id;
}

/** `vmxfer export ecs` of `imageId` to `dst` against the fake, its OSS routes through the proxy. */
function exportCli(imageId: string, dst: string, state: string): string[] {
  return ['export', 'ecs', '--image-id', imageId, '--format', 'qcow2', '--oss-bucket', BUCKET, '--oss-prefix', 'web01', dst, '--region', REGION,
    '--endpoint', `http://${ecs.host}`, '--oss-endpoint', ossEndpoint(), '--poll-seconds', '0.005', '--state-dir', state];
}

/** Every GET of an export object held `ms`, so the progress is seen part way through each disk. */
function slowObjectGets(keys: string[], ms: number): void {
  proxy.setPlan(({ method, url }) => (method === 'GET' && keys.some((k) => url.includes(k)) ? { kind: 'stall', ms } : undefined));
}

const TOTAL = SIZES.reduce((n, s) => n + s, 0);

/** One coherent progress over the disks: the objects' sum throughout, bytesRead only growing, never past it, ending on it. */
function assertOneProgress(progress: Array<{ bytesRead: number; totalBytes: number }>, total: number): void {
  assert.deepEqual([...new Set(progress.map((p) => p.totalBytes))], [total], 'totalBytes is the sum of the objects from the first report on');
  for (const [i, p] of progress.entries()) assert.ok(p.bytesRead >= (progress[i - 1]?.bytesRead ?? 0) && p.bytesRead <= total, `report ${i}: ${JSON.stringify(progress)}`);
  assert.equal(progress.at(-1)!.bytesRead, total, 'bytesRead ends on the total');
}

const finished = (id: string) => waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function newDir(name: string): Promise<string> {
  const p = join(dir, name);
  await mkdir(p);
  return p;
}

test('cancelling a 3-disk ECS export job (ECS RPC API protocol fake, OSS routes behind a fault proxy) while data disk 2 downloads removes every disk: no files, no partial files, no download checkpoints', async () => {
  const { imageId, keys } = threeDiskImage();
  const out = await newDir('cancel');
  holdDataDisk2(keys[2]!);
  try {
    const id = await submitted(imageId, join(out, 'web01.qcow2'));
    await until(() => dataDisk2RangesIn(d.stateDir, keys[2]!), 'data disk 2 two ranges in');
    assert.deepEqual((await readdir(out)).sort(), ['.web01.data2.qcow2.vmxfer-partial', 'web01.data1.qcow2', 'web01.qcow2'], 'the system disk and data disk 1 finished, data disk 2 is partial');
    assert.equal((await d.api('POST', `/v1/jobs/${id}/cancel`)).status, 202);
    const job = await finished(id);
    assert.equal(job.state, 'cancelled', JSON.stringify(job.error));
    assert.deepEqual(await readdir(out), [], 'no disk file and no partial file is left');
    assert.deepEqual(await leftovers(d.stateDir, keys), [], 'no download checkpoint is left');
  } finally {
    proxy.setPlan(undefined);
  }
});

for (const how of ['kill', 'stop'] as const) {
  test(`a daemon ${how === 'kill' ? 'killed (kill -9)' : 'stopped (SIGTERM)'} while data disk 2 of a 3-disk ECS export downloads does not GET the finished disks again (fault proxy log) and resumes data disk 2 from its checkpoint; the result lists each disk's SHA-256`, async () => {
    const { imageId, keys } = threeDiskImage();
    const out = await newDir(`restart-${how}`);
    const dst = join(out, 'web01.qcow2');
    const from = proxy.log.length;
    holdDataDisk2(keys[2]!);
    let mark: number;
    try {
      const id = await submitted(imageId, dst);
      await until(() => dataDisk2RangesIn(d.stateDir, keys[2]!), 'data disk 2 two ranges in');
      if (how === 'kill') await d.kill();
      else await d.stop();
      mark = proxy.log.length;
      assert.deepEqual(getsPerKey(keys, from).slice(0, 2), [3, 2], 'before the restart: every range of the system disk and data disk 1');
      proxy.setPlan(undefined);
      await d.restart();
      const job = await finished(id);
      assert.equal(job.state, 'completed', JSON.stringify(job.error));
      assert.equal(job.attempts, 2);
      assert.deepEqual(getsPerKey(keys, mark), [0, 0, Math.ceil(SIZES[2]! / RANGE) - 2], 'after it: no GET of the system disk or data disk 1, the three ranges data disk 2 lacked');
      const bytes = ecs.world.exportDiskBytes;
      assert.equal(job.result.outputSha256, sha256(bytes[0]!));
      assert.deepEqual(job.result.dataDisks, [
        { key: keys[1], destination: join(out, 'web01.data1.qcow2'), objectSize: SIZES[1], outputSha256: sha256(bytes[1]!) },
        { key: keys[2], destination: join(out, 'web01.data2.qcow2'), objectSize: SIZES[2], outputSha256: sha256(bytes[2]!) },
      ]);
      for (const [i, f] of ['web01.qcow2', 'web01.data1.qcow2', 'web01.data2.qcow2'].entries()) assert.ok((await readFile(join(out, f))).equals(bytes[i]!), f);
      assert.equal(job.downloadedDisks, undefined, 'the record of finished disks is not part of the API job');
      assert.deepEqual(job.progress.disk, { index: 3, count: 3 });
      assert.deepEqual([job.progress.bytesRead, job.progress.totalBytes], [TOTAL, TOTAL], 'the disks the restart kept count as done');
    } finally {
      proxy.setPlan(undefined);
    }
  });
}

test('SIGINT to `vmxfer export ecs` while data disk 2 of a 3-disk export downloads exits 130 and leaves no disk file, partial file or download checkpoint', async () => {
  const { imageId, keys } = threeDiskImage();
  const out = await newDir('sigint');
  const state = join(dir, 'sigint-state');
  // The CLI reads each of these objects in one 16 MiB range: data disk 2's only GET is held.
  holdDataDisk2(keys[2]!, 0);
  try {
    const args = exportCli(imageId, join(out, 'web01.qcow2'), state);
    let sawBoth = false;
    const { code, stderr } = await interruptWhenReady(args, ALI_ENV, async () => {
      if (!(await dataDisk2RangesIn(state, keys[2]!, 0))) return false;
      sawBoth = (await readdir(out)).filter((f) => !f.includes('vmxfer-partial')).length === 2;
      return true;
    });
    assert.equal(code, 130, stderr);
    assert.ok(sawBoth, 'the system disk and data disk 1 had finished when SIGINT came');
    assert.deepEqual(await readdir(out), [], 'no disk file and no partial file is left');
    assert.deepEqual(await leftovers(state, keys), [], 'no download checkpoint is left');
  } finally {
    proxy.setPlan(undefined);
  }
});

test('a 3-disk ECS export job (ECS RPC API protocol fake, OSS routes, every GET held 300 ms) reports one progress in the feed: totalBytes the three objects, bytesRead monotonic to it, the disk in progress as progress.disk', async () => {
  const { imageId, keys } = threeDiskImage();
  const out = await newDir('feed-progress');
  const feed = await openFeed(d);
  slowObjectGets(keys, 300);
  try {
    const id = await submitted(imageId, join(out, 'web01.qcow2'));
    const job = await finished(id);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const sent = feed.got.filter((m) => m.type === 'progress' && m.id === id && m.progress.totalBytes > 0).map((m) => m.progress);
    assert.ok(sent.length >= 3, `${sent.length} progress messages over the download`);
    assertOneProgress([...sent, feed.jobs(id).at(-1).progress], TOTAL);
    assert.ok(sent.some((p) => p.bytesRead > 0 && p.bytesRead < TOTAL), 'a message part way through');
    const disks = sent.map((p) => p.disk.index);
    assert.deepEqual(disks, [...disks].sort(), 'the disk index only grows');
    assert.ok(new Set(disks).size >= 2 && sent.every((p) => p.disk.count === 3), JSON.stringify(sent.map((p) => p.disk)));
  } finally {
    proxy.setPlan(undefined);
    await feed.close();
  }
});

test('`vmxfer export ecs --json` of a 3-disk image (ECS RPC API protocol fake, each GET held 700 ms) prints progress lines over all three disks: totalBytes their sum, bytesRead monotonic, a last line on the total', async () => {
  const { imageId, keys } = threeDiskImage();
  const out = await newDir('cli-progress');
  slowObjectGets(keys, 700);
  try {
    const r = await vmxfer([...exportCli(imageId, join(out, 'web01.qcow2'), join(dir, 'cli-progress-state')), '--json'], { env: ALI_ENV });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const progress = lines.filter((l) => l.type === 'progress');
    assert.ok(progress.length >= 2, r.stdout);
    assertOneProgress(progress, TOTAL);
    assert.ok(progress.some((p) => p.bytesRead > 0 && p.bytesRead < TOTAL && p.disk.index > 1), 'a line part way through, past the system disk');
    assert.deepEqual(progress.at(-1).disk, { index: 3, count: 3 });
    assert.equal(lines.at(-1).type, 'result');
  } finally {
    proxy.setPlan(undefined);
  }
});

test('`vmxfer export ecs --json` of a single-disk image (ECS RPC API protocol fake): its progress is the one object, with no disk position', async () => {
  const imageId = ecsId('m');
  ecs.world.images.set(imageId, { id: imageId, region: REGION, name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
  ecs.world.exportDiskBytes = [randomBytes(SIZES[0]!)];
  const out = await newDir('cli-single');
  const r = await vmxfer([...exportCli(imageId, join(out, 'web01.qcow2'), join(dir, 'cli-single-state')), '--json'], { env: ALI_ENV });
  assert.equal(r.code, 0, r.stderr);
  const progress = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'progress');
  assertOneProgress(progress, SIZES[0]!);
  assert.ok(progress.every((p) => p.disk === undefined));
});
