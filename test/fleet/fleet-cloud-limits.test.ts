/**
 * Issue #15 point 7 (c), per-region limits of cloud tasks: six upload jobs, each importing into ECS and
 * copying to two regions, against the ECS RPC API protocol fake (and the OSS protocol fake for the uploads),
 * with caps of 2 ImportImage and 2 CopyImage per region. How many tasks ran at once is read from the
 * fake's own run log (each task from the call that created it to the answer that reported its end),
 * not from our counters: never over the cap, and the cap is used. Run once on one agent with the in-process
 * semaphore and once on two agents' JobServices (two job stores) sharing the Redis semaphore.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS, type AgentConfig } from '../../agent/config/schema.js';
import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { JobService } from '../../agent/jobs/job-service.js';
import { LiveProgress } from '../../agent/jobs/live-progress.js';
import { AgentMetrics } from '../../agent/metrics/agent-metrics.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import type { FleetSemaphore } from '../../agent/fleet/fleet-semaphore.js';
import { LocalFleetSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { RedisFleetSemaphore } from '../../agent/fleet/fleet-semaphore-redis.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import type { JobRecord } from '../../agent/jobs/job-types.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import type { RunLogEntry } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';
import { maxOverlap } from './fleet-semaphore-conformance.js';

const MiB = 1024 * 1024;
const REGION = 'cn-hangzhou';
const CAP = 2;
const JOBS = 6;
let ecs: EcsRpcFake;
let oss: OssProtocolFake;
let dir: string;
let cleanup: () => Promise<void>;
let raw: string;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  raw = join(dir, 'system.raw');
  await writeFile(raw, randomBytes(MiB));
  ecs = await EcsRpcFake.start();
  // Long enough tasks that six jobs overlap: each describe moves a task or copy one step.
  ecs.world.scripts.importTask = ['Waiting', ...Array<string>(8).fill('Processing'), 'Finished'];
  ecs.world.scripts.copy = [...Array.from({ length: 8 }, () => ({ status: 'Creating', progress: '50%' })), { status: 'Available', progress: '100%' }];
  oss = await startOssProtocolFake({ buckets: ['fleet-limits'], capacityBytes: 64 * MiB });
  Object.assign(process.env, { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret });
});
after(async () => {
  await oss.close();
  await ecs.close();
  await cleanup();
});

function config(stateDir: string): AgentConfig {
  return {
    ...structuredClone(DEFAULTS),
    state_dir: stateDir,
    source_roots: [dir],
    output_roots: [stateDir],
    jobs: { max_concurrent: JOBS, per_destination: JOBS, keep_finished: 100 },
    stores: { ...DEFAULTS.stores, oss_endpoint: oss.endpoint, oss_region: `oss-${REGION}`, s3_path_style: true },
    cloud: { ...DEFAULTS.cloud, ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
    fleet: { max_concurrent: 0, cloud_tasks: { ...DEFAULTS.fleet.cloud_tasks, ecs_import_per_region: CAP, ecs_copy_image_per_region: CAP } },
  };
}

interface Agent {
  service: JobService;
  store: FileJobStore;
  logs: string[];
}

/** One agent's job service on its own file job store, with the given semaphore. */
async function agent(name: string, semaphore: FleetSemaphore): Promise<Agent> {
  const stateDir = join(dir, name);
  await mkdir(stateDir, { recursive: true });
  const metrics = new AgentMetrics();
  const ctx: RunContext = { config: config(stateDir), checkpoints: new FileCheckpointStore<UploadCheckpoint>(join(stateDir, 'checkpoints'), isUploadCheckpoint), metrics, bandwidth: undefined, semaphore };
  const store = await FileJobStore.open(join(stateDir, 'jobs'));
  const logs: string[] = [];
  const service = new JobService(store, new LiveProgress(), ctx, pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }), undefined, `agent-${name}`);
  await service.start();
  return { service, store, logs };
}

async function finished(store: FileJobStore, id: string): Promise<JobRecord> {
  for (;;) {
    const rec = await store.get(id);
    if (rec && ['completed', 'failed', 'cancelled'].includes(rec.state)) return rec;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Submits the jobs round-robin over the agents, waits for every one, and reads the fake's run log of them. */
async function runWave(label: string, agents: Agent[]): Promise<{ imports: RunLogEntry[]; copies: RunLogEntry[] }> {
  const submitted = await Promise.all(Array.from({ length: JOBS }, (_, i) => {
    const a = agents[i % agents.length]!;
    const name = `${label}${i}`;
    const job = a.service.submit({
      kind: 'upload', source: raw, destination: `oss://fleet-limits/${name}/system.raw`, format: 'raw', options: {},
      import: { target: 'ecs-image', imageName: name, osType: 'linux', copy: [{ region: 'cn-shanghai' }, { region: 'cn-beijing' }] },
    });
    return job.then((view) => ({ id: view.id, store: a.store }));
  }));
  const recs = await Promise.all(submitted.map((s) => finished(s.store, s.id)));
  for (const r of recs) assert.equal(r.state, 'completed', `${r.id}: ${JSON.stringify(r.error)}`);
  const images = new Set(recs.flatMap((r) => r.result?.import?.resourceIds ?? []));
  const tasks = new Set(recs.flatMap((r) => r.result?.import?.taskIds ?? []));
  assert.equal(images.size, JOBS);
  const log = ecs.world.runLog;
  const imports = log.filter((e) => e.action === 'ImportImage' && tasks.has(e.id));
  const copies = log.filter((e) => e.action === 'CopyImage' && [...ecs.world.images.values()].some((i) => i.id === e.id && images.has(i.copyOf?.image ?? '')));
  return { imports, copies };
}

function assertCapped(what: string, entries: RunLogEntry[], expected: number): void {
  assert.equal(entries.length, expected, `${what}: every task is in the fake's log`);
  assert.ok(entries.every((e) => e.end !== undefined && e.region === REGION), `${what}: all ended, all counted in ${REGION}`);
  const max = maxOverlap(entries.map((e) => ({ start: e.start, end: e.end! })));
  assert.ok(max <= CAP, `${what}: the fake saw ${max} running at once; the cap is ${CAP}`);
  assert.equal(max, CAP, `${what}: the cap is used, not serialised to fewer`);
}

async function check(label: string, agents: Agent[]): Promise<void> {
  try {
    const { imports, copies } = await runWave(label, agents);
    assertCapped('ImportImage', imports, JOBS);
    assertCapped('CopyImage', copies, 2 * JOBS);
    const queued = agents.flatMap((a) => a.logs).map((l) => JSON.parse(l) as { msg: string; state?: string }).filter((l) => l.msg === 'cloud task' && l.state === 'Queued');
    assert.ok(queued.length > 0, 'a task over the cap waited and its job said so (cloudTask Queued, logged)');
  } finally {
    await Promise.all(agents.map((a) => a.service.shutdown(2000)));
  }
}

test('ECS RPC API protocol fake, one agent, in-process semaphore: ImportImage and CopyImage never run more than 2 per region, and 2 do', async () => {
  await check('local', [await agent('local', new LocalFleetSemaphore())]);
});

test('ECS RPC API protocol fake, two agents sharing the Redis semaphore: ImportImage and CopyImage never run more than 2 per region across both, and 2 do', async () => {
  const redis = await ensureRedis();
  const prefix = redisPrefix('cloud-limits');
  const semaphores = [RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 }), RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 })];
  try {
    await check('redis', [await agent('a', semaphores[0]!), await agent('b', semaphores[1]!)]);
  } finally {
    await Promise.all(semaphores.map((s) => s.close()));
  }
});
