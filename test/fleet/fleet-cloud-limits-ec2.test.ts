/**
 * Issue #15 point 7 (c) on EC2: six upload jobs to the real RGW, each importing an AMI and copying it to two
 * regions through the EC2 Query API protocol fake, with caps of 2 imports per region and 2 CopyImage per
 * destination region. The fake's own task log (each task from the call that created it to the Describe
 * that first reported its end) says how many ran at once: never over the cap, and the cap is used. Two
 * agents' job services (two job stores) share the Redis semaphore; the in-process one runs the ECS test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULTS, type AgentConfig } from '../../agent/config/schema.js';
import { RedisFleetSemaphore } from '../../agent/fleet/fleet-semaphore-redis.js';
import type { JobRequest } from '../../agent/jobs/job-types.js';
import type { FakeTask } from '../helpers/ec2-query-fake/fake-state.js';
import { importWorld, type ImportWorld } from '../helpers/import-world.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { fleetAgent, mostAtOnce, queuedLines, runJobs } from './cloud-limits-rig.js';

const CAP = 2;
const JOBS = 6;
const COPY_REGIONS = ['us-west-2', 'eu-west-1'];
let world: ImportWorld;

before(async () => {
  world = await importWorld('fleet-limits-ec2', 3);
  world.ec2.world.scripts.importImage = [...Array.from({ length: 8 }, () => ({ status: 'active', message: 'converting', progress: '40' })), { status: 'completed', message: '' }];
  world.ec2.world.scripts.copy = [...Array.from({ length: 8 }, () => ({ status: 'pending' })), { status: 'available' }];
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: world.rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: world.rgw.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
});
after(() => world.close());

function config(stateDir: string): AgentConfig {
  return {
    ...structuredClone(DEFAULTS),
    state_dir: stateDir,
    source_roots: [{ path: world.dir, shared: false }],
    output_roots: [stateDir],
    jobs: { max_concurrent: JOBS, per_destination: JOBS, keep_finished: 100 },
    stores: { ...DEFAULTS.stores, s3_endpoint: world.rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true },
    cloud: { ...DEFAULTS.cloud, aws_endpoint: world.ec2.url, poll_seconds: 0.01 },
    fleet: { max_concurrent: 0, cloud_tasks: { ...DEFAULTS.fleet.cloud_tasks, ec2_import_per_region: CAP, ec2_copy_per_region: CAP } },
  };
}

test('EC2 Query API protocol fake, two agents sharing the Redis semaphore: imports and CopyImage never run more than 2 per region across both, and 2 do', async () => {
  const redis = await ensureRedis();
  const prefix = redisPrefix('cloud-limits-ec2');
  const sems = [RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 }), RedisFleetSemaphore.open(redis.url, { prefix, leaseMs: 5000 })];
  const agents = [await fleetAgent('a', config(join(world.dir, 'a')), sems[0]!), await fleetAgent('b', config(join(world.dir, 'b')), sems[1]!)];
  try {
    const jobs = Array.from({ length: JOBS }, (_, i): JobRequest => ({
      kind: 'upload', source: world.raw, destination: `s3://${world.bucket.name}/web${i}.vmdk`, format: 'vmdk', options: {},
      import: { target: 'aws-image', copy: COPY_REGIONS.map((region) => ({ region })) },
    }));
    const recs = await runJobs(agents, jobs);
    for (const r of recs) assert.equal(r.state, 'completed', `${r.id}: ${JSON.stringify(r.error)}`);
    const tasks = new Set<FakeTask>(world.ec2.world.tasks.values());
    const importIds = new Set(recs.flatMap((r) => r.result?.import?.taskIds ?? []));
    const amis = new Set(recs.flatMap((r) => r.result?.import?.resourceIds ?? []));
    const imports = [...tasks].filter((t) => importIds.has(t.id));
    assert.equal(imports.length, JOBS);
    const ran = (ts: FakeTask[]) => mostAtOnce(ts.map((t) => ({ start: t.startedAt!, end: t.endedAt })));
    assert.ok(imports.every((t) => t.endedAt !== undefined));
    assert.ok(ran(imports) <= CAP, `the fake saw ${ran(imports)} imports at once; the cap is ${CAP}`);
    assert.equal(ran(imports), CAP, 'imports: the cap is used');
    for (const region of COPY_REGIONS) {
      const copies = [...tasks].filter((t) => t.kind === 'copy-image' && t.params.region === region && amis.has(t.params.SourceImageId ?? ''));
      assert.equal(copies.length, JOBS, `${region}: one copy per job`);
      assert.ok(ran(copies) <= CAP, `${region}: the fake saw ${ran(copies)} copies at once; the cap is ${CAP}`);
      assert.equal(ran(copies), CAP, `${region}: the cap is used`);
    }
    assert.ok(queuedLines(agents).length > 0, 'a task over the cap waited and its job said so');
  } finally {
    await Promise.all(agents.map((a) => a.service.shutdown(2000)));
    await Promise.all(sems.map((s) => s.close()));
  }
});
