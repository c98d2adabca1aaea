import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { distinct, openFeed } from '../helpers/job-feed.js';
import { tempDir } from '../helpers/tmp.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { IMAGE_SCRIPT, IMPORT_TASK_SCRIPT } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import type { EcsConnection } from '../../agent/cloud/ecs/ecs-clients.js';
import { isVmxferError } from '../../agent/core/errors.js';

/**
 * The end states of an ECS import against the ECS RPC API protocol fake: DescribeTasks TaskStatus
 * (Waiting, Processing, Finished, Failed, Cancelled, Deleted) and then DescribeImages Status (Creating,
 * Available, UnAvailable, CreateFailed, Deprecated), ECS API reference.
 */
let ecs: EcsRpcFake;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };

before(async () => {
  ecs = await EcsRpcFake.start();
});
after(() => ecs?.close());

function connection(): EcsConnection {
  return { region: 'cn-hangzhou', endpoint: ecs.host, protocol: 'http', accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } };
}

const importParams = { target: 'ecs-image' as const, imageName: 'web01', disks: [{ ossBucket: 'up', ossObject: 'web01/system.raw', format: 'RAW', sizeGiB: 1 }] };

interface EndCase {
  task: string[];
  image?: Array<{ status: string; progress: string }>;
  /** The states reported, in order, ending with the one that failed the import. */
  seen: string[];
}

const FAILED_ENDS: EndCase[] = [
  { task: ['Waiting', 'Processing', 'Failed'], seen: ['Waiting', 'Processing', 'Failed'] },
  { task: ['Waiting', 'Cancelled'], seen: ['Waiting', 'Cancelled'] },
  { task: ['Waiting', 'Processing', 'Deleted'], seen: ['Waiting', 'Processing', 'Deleted'] },
  { task: IMPORT_TASK_SCRIPT, image: [{ status: 'Creating', progress: '50%' }, { status: 'CreateFailed', progress: '50%' }], seen: ['Waiting', 'Processing', 'Finished', 'Creating', 'CreateFailed'] },
  { task: IMPORT_TASK_SCRIPT, image: [{ status: 'UnAvailable', progress: '' }], seen: ['Waiting', 'Processing', 'Finished', 'UnAvailable'] },
  { task: IMPORT_TASK_SCRIPT, image: [{ status: 'Deprecated', progress: '100%' }], seen: ['Waiting', 'Processing', 'Finished', 'Deprecated'] },
];

test('every failed end of an ECS import task or image (Failed, Cancelled, Deleted; CreateFailed, UnAvailable, Deprecated) on the ECS RPC API protocol fake is CLOUD_TASK_FAILED naming the state', async () => {
  for (const c of FAILED_ENDS) {
    ecs.world.scripts.importTask = c.task;
    ecs.world.scripts.image = c.image ?? IMAGE_SCRIPT;
    const seen: string[] = [];
    try {
      await runImportStep({ cloud: 'ecs', connection: connection(), import: importParams, poll: POLL }, { onStatus: (s) => seen.push(s.state) });
      assert.fail(`${c.seen.at(-1)}: the import succeeded`);
    } catch (err) {
      assert.ok(isVmxferError(err), String(err));
      assert.equal(err.code, 'CLOUD_TASK_FAILED', err.message);
      assert.match(err.message, new RegExp(`ended in state "${c.seen.at(-1)}"`));
    } finally {
      ecs.world.scripts.importTask = IMPORT_TASK_SCRIPT;
      ecs.world.scripts.image = IMAGE_SCRIPT;
    }
    assert.deepEqual(seen, c.seen);
  }
});

test('an ECS import API job whose image ends CreateFailed fails with CLOUD_TASK_FAILED; every state is in cloudTask, the feed and /metrics (objects on the OSS protocol fake)', async () => {
  const { dir, cleanup } = await tempDir();
  const raw = join(dir, 'system.raw');
  await writeFile(raw, randomBytes(1024 * 1024));
  await truncate(raw, 2 * 1024 * 1024);
  const oss: OssProtocolFake = await startOssProtocolFake({ buckets: ['ecs-states'], capacityBytes: 16 * 1024 * 1024 });
  const d = await startDaemon({
    sourceRoots: [dir],
    env: { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret },
    config: { stores: { oss_endpoint: oss.endpoint, oss_region: 'oss-cn-hangzhou', s3_path_style: true }, cloud: { ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 } },
  });
  ecs.world.scripts.image = [{ status: 'Creating', progress: '20%' }, { status: 'CreateFailed', progress: '20%' }];
  const feed = await openFeed(d);
  try {
    const r = await d.api('POST', '/v1/jobs', { source: raw, destination: 'oss://ecs-states/web01/system.raw', format: 'original', import: { target: 'ecs-image', imageName: 'web01' } });
    assert.equal(r.status, 201, r.text);
    const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    assert.equal(job.state, 'failed');
    assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
    assert.deepEqual([job.cloudTask.kind, job.cloudTask.state], ['ecs-image', 'CreateFailed']);
    assert.match(job.cloudTask.id, /^m-/, 'the image, followed once the task finished');
    await new Promise((res) => setTimeout(res, 200));
    const fed = feed.jobs(job.id);
    assert.deepEqual(distinct(fed.filter((j) => j.cloudTask).map((j) => j.cloudTask.state)), ['Waiting', 'Processing', 'Finished', 'Creating', 'CreateFailed']);
    assert.equal(fed.at(-1).state, 'failed');
    const metrics = (await d.api('GET', '/metrics')).text;
    for (const state of ['Waiting', 'Processing', 'Finished', 'Creating', 'CreateFailed']) {
      assert.match(metrics, new RegExp(`^vmxfer_cloud_task_updates_total\\{kind="ecs-image",state="${state}",agent="[^"]+"\\} 1$`, 'm'), state);
    }
  } finally {
    ecs.world.scripts.image = IMAGE_SCRIPT;
    await feed.close();
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
    await oss.close();
    await cleanup();
  }
});
