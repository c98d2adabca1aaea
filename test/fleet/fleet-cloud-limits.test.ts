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
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULTS, type AgentConfig } from '../../agent/config/schema.js';
import { LocalFleetSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { RedisFleetSemaphore } from '../../agent/fleet/fleet-semaphore-redis.js';
import type { JobRequest } from '../../agent/jobs/job-types.js';
import { fleetAgent, mostAtOnce, queuedLines, runJobs, type FleetAgent } from './cloud-limits-rig.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import type { RunLogEntry } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';

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
    source_roots: [{ path: dir, shared: false }],
    output_roots: [stateDir],
    jobs: { max_concurrent: JOBS, per_destination: JOBS, keep_finished: 100 },
    stores: { ...DEFAULTS.stores, oss_endpoint: oss.endpoint, oss_region: `oss-${REGION}`, s3_path_style: true },
    cloud: { ...DEFAULTS.cloud, ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
    fleet: { max_concurrent: 0, cloud_tasks: { ...DEFAULTS.fleet.cloud_tasks, ecs_import_per_region: CAP, ecs_copy_image_per_region: CAP } },
  };
}

/** Six jobs round-robin over the agents; the fake's run log of their imports and copies. */
async function runWave(label: string, agents: FleetAgent[]): Promise<{ imports: RunLogEntry[]; copies: RunLogEntry[] }> {
  const jobs = Array.from({ length: JOBS }, (_, i): JobRequest => ({
    kind: 'upload', source: raw, destination: `oss://fleet-limits/${label}${i}/system.raw`, format: 'raw', options: {},
    import: { target: 'ecs-image', imageName: `${label}${i}`, osType: 'linux', copy: [{ region: 'cn-shanghai' }, { region: 'cn-beijing' }] },
  }));
  const recs = await runJobs(agents, jobs);
  for (const r of recs) assert.equal(r.state, 'completed', `${r.id}: ${JSON.stringify(r.error)}`);
  const images = new Set(recs.flatMap((r) => r.result?.import?.resourceIds ?? []));
  const tasks = new Set(recs.flatMap((r) => r.result?.import?.taskIds ?? []));
  assert.equal(images.size, JOBS);
  const log = ecs.world.runLog;
  const imports = log.filter((e) => e.action === 'ImportImage' && tasks.has(e.id));
  const copies = log.filter((e) => e.action === 'CopyImage' && images.has(ecs.world.images.get(e.id)?.copyOf?.image ?? ''));
  return { imports, copies };
}

function assertCapped(what: string, entries: RunLogEntry[], expected: number): void {
  assert.equal(entries.length, expected, `${what}: every task is in the fake's log`);
  assert.ok(entries.every((e) => e.end !== undefined && e.region === REGION), `${what}: all ended, all counted in ${REGION}`);
  const max = mostAtOnce(entries);
  assert.ok(max <= CAP, `${what}: the fake saw ${max} running at once; the cap is ${CAP}`);
  assert.equal(max, CAP, `${what}: the cap is used, not serialised to fewer`);
}

async function check(label: string, agents: FleetAgent[]): Promise<void> {
  try {
    const { imports, copies } = await runWave(label, agents);
    assertCapped('ImportImage', imports, JOBS);
    assertCapped('CopyImage', copies, 2 * JOBS);
    assert.ok(queuedLines(agents).length > 0, 'a task over the cap waited and its job said so (cloudTask Queued, logged)');
  } finally {
    await Promise.all(agents.map((a) => a.service.shutdown(2000)));
  }
}

test('ECS RPC API protocol fake, one agent, in-process semaphore: ImportImage and CopyImage never run more than 2 per region, and 2 do', async () => {
  await check('local', [await fleetAgent('local', config(join(dir, 'local')), new LocalFleetSemaphore())]);
});

test('ECS RPC API protocol fake, two agents sharing the Redis semaphore: ImportImage and CopyImage never run more than 2 per region across both, and 2 do', async () => {
  const redis = await ensureRedis();
  const prefix = redisPrefix('cloud-limits');
  const semaphores = [RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 }), RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 })];
  try {
    await check('redis', [await fleetAgent('a', config(join(dir, 'a')), semaphores[0]!), await fleetAgent('b', config(join(dir, 'b')), semaphores[1]!)]);
  } finally {
    await Promise.all(semaphores.map((s) => s.close()));
  }
});
