import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { Ec2Error } from '../helpers/ec2-query-fake/ec2-actions.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId, RpcError } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { startFaultProxy, type FaultProxy, type ProxyFault } from '../helpers/fault-proxy.js';
import { readyExportBucket } from '../helpers/export-daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { runExport } from '../helpers/export-run.js';
import { copyAwsImage, copyEcsImage } from '../../agent/cloud/tasks/copy-step.js';
import { shareAwsImage, shareEcsImage } from '../../agent/cloud/tasks/share-step.js';
import type { AwsConnection } from '../../agent/cloud/aws/aws-clients.js';
import type { EcsConnection } from '../../agent/cloud/ecs/ecs-clients.js';
import type { CloudRetryPolicy } from '../../agent/cloud/cloud-retry.js';
import { OssSink } from '../../agent/sinks/oss/oss-sink.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { isVmxferError } from '../../agent/core/errors.js';

/**
 * Cloud calls through a fault-injecting proxy in front of the EC2 Query API and ECS RPC API protocol
 * fakes: every API request is first answered with a fault (a reset, a 500, a 503 with the cloud's own
 * error body, a stall past the request timeout), its retry is forwarded. Import, export, copy and
 * share must complete; a fault that never ends is CLOUD_UNAVAILABLE; a permanent code fails at once.
 */
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 20_000 };
const STALL_MS = 2000;
const RETRY: CloudRetryPolicy = { attempts: 8, baseDelayMs: 1, maxDelayMs: 8, requestTimeoutMs: 500 };
const REGION = 'cn-hangzhou';

let ec2: Ec2QueryFake;
let ecs: EcsRpcFake;
let ec2Proxy: FaultProxy;
let ecsProxy: FaultProxy;

before(async () => {
  ec2 = await Ec2QueryFake.start();
  readyExportBucket(ec2);
  ecs = await EcsRpcFake.start();
  ec2Proxy = await startFaultProxy(ec2.url);
  ecsProxy = await startFaultProxy(`http://${ecs.host}`);
});
after(async () => {
  await ec2Proxy?.close();
  await ecsProxy?.close();
  await ec2?.close();
  await ecs?.close();
});

const EC2_503 = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>Unavailable</Code><Message>The server is overloaded.</Message></Error></Errors><RequestID>fp-1</RequestID></Response>`;
const ECS_503 = JSON.stringify({ Code: 'ServiceUnavailable', Message: 'The request has failed due to a temporary failure of the server.', RequestId: 'fp-2', HostId: 'ecs' });

/** The faults, in turn: each API request with an even sequence number gets the next one; its retry passes. */
function alternate(cloudBody: { body: string; contentType: string }, isApi: (method: string, url: string) => boolean) {
  const faults: ProxyFault[] = [
    { kind: 'reset' },
    { kind: 'status', status: 500, code: 'InternalError' },
    { kind: 'status', status: 503, code: 'ServiceUnavailable', ...cloudBody },
    { kind: 'stall', ms: STALL_MS },
  ];
  let n = 0;
  const seen = new Map<string, number>();
  return {
    seen,
    plan: ({ method, url }: { method: string; url: string }) => {
      if (!isApi(method, url)) return undefined;
      const k = n++;
      if (k % 2 === 1) return undefined;
      const f = faults[(k / 2) % faults.length]!;
      seen.set(f.kind === 'status' ? `${f.status}` : f.kind, (seen.get(f.kind === 'status' ? `${f.status}` : f.kind) ?? 0) + 1);
      return f;
    },
  };
}

const EC2_API = (method: string, url: string) => method === 'POST' && url === '/';
const ECS_API = (_method: string, url: string) => url === '/' || url.startsWith('/?');

function awsConn(): AwsConnection {
  return { region: 'eu-west-1', endpoint: ec2Proxy.endpoint, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: RETRY };
}

function ecsConn(retry = RETRY): EcsConnection {
  return { region: REGION, endpoint: new URL(ecsProxy.endpoint).host, protocol: 'http', accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, retry };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isVmxferError(err), `expected a VmxferError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('EC2 Query API protocol fake behind a fault proxy (reset, 500, 503 Unavailable, stall past the request timeout on every call): import, copy, share and export complete', async () => {
  const plan = alternate({ body: EC2_503, contentType: 'text/xml' }, EC2_API);
  ec2Proxy.setPlan(plan.plan);
  ec2.failNext.set('DescribeImportImageTasks', new Ec2Error(500, 'InternalError', 'An internal error has occurred.'));
  const retries: string[] = [];
  const { dir, cleanup } = await tempDir();
  try {
    const imported = await runImportStep({ cloud: 'aws', connection: awsConn(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'web01.vmdk', format: 'VMDK' }] }, poll: POLL, dryRunFirst: true }, { onRetry: (c) => retries.push(c) });
    const ami = imported.resourceIds[0]!;
    assert.match(ami, /^ami-/);
    assert.equal(ec2.callsOf('ImportImage').filter((c) => c.params.DryRun !== 'true').reduce((s, c) => s.add(c.params.ClientToken), new Set()).size, 1, 'one ClientToken through every retry');
    ec2.world.images.set('ami-faults', { region: 'eu-west-1', encrypted: false });
    const copy = await copyAwsImage(awsConn(), { sourceImageId: 'ami-faults', sourceRegion: 'eu-west-1', destinationRegion: 'us-east-1', name: 'web01', poll: POLL });
    assert.equal(ec2.world.tokens.get(copy.clientToken), copy.imageId, 'one AMI for the copy token');
    const shared = await shareAwsImage(awsConn(), 'ami-faults', ['111122223333']);
    assert.deepEqual(shared, [{ account: '111122223333', shared: true }]);
    ec2.world.exportBytes = randomBytes(200_000);
    const dst = join(dir, 'web01.vmdk');
    const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(dir, '.checkpoints'), isDownloadCheckpoint);
    await runExport({ aws: awsConn() }, { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp', prefix: 'exports/' }, { destination: dst, poll: POLL, partSize: 64 * 1024, checkpoints });
    assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
  } finally {
    ec2Proxy.setPlan(undefined);
    await cleanup();
  }
  for (const kind of ['reset', '500', '503', 'stall']) assert.ok((plan.seen.get(kind) ?? 0) >= 2, `${kind} injected: ${JSON.stringify([...plan.seen])}`);
  assert.ok(retries.includes('InternalError') && retries.includes('Unavailable') && retries.includes('ECONNRESET') && retries.includes('ETIMEDOUT'), retries.join(','));
});

test('ECS RPC API protocol fake behind a fault proxy (reset, 500, 503 ServiceUnavailable, stall past the request timeout on every call): import, copy, share and export complete', async () => {
  const plan = alternate({ body: ECS_503, contentType: 'application/json;charset=utf-8' }, ECS_API);
  ecsProxy.setPlan(plan.plan);
  ecs.failNext.set('DescribeTasks', new RpcError(500, 'InternalError', 'The request processing has failed due to some unknown error.'));
  const retries: string[] = [];
  const { dir, cleanup } = await tempDir();
  try {
    const imported = await runImportStep({ cloud: 'ecs', connection: ecsConn(), import: { target: 'ecs-image', imageName: 'web01', disks: [{ ossBucket: 'up', ossObject: 'web01/system.qcow2', format: 'qcow2', sizeGiB: 40 }], osType: 'linux', platform: 'Ubuntu', architecture: 'x86_64' }, poll: POLL, dryRunFirst: true }, { onRetry: (c) => retries.push(c) });
    assert.match(imported.resourceIds[0]!, /^m-/);
    const id = ecsId('m');
    ecs.world.images.set(id, { id, region: REGION, name: 'src', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
    const copy = await copyEcsImage(ecsConn(), { sourceImageId: id, sourceRegion: REGION, destinationRegion: 'cn-shanghai', poll: POLL });
    assert.match(copy.imageId, /^m-/);
    const shared = await shareEcsImage(ecsConn(), REGION, id, ['1234567890123456']);
    assert.deepEqual(shared.map((o) => o.shared), [true]);
    ecs.world.exportBytes = randomBytes(150_000);
    const sink = retryingSink(new OssSink({ bucket: 'exports', endpoint: `http://localhost:${ecs.host.split(':')[1]}`, sldEnable: true, accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, env: {} }));
    const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(dir, '.checkpoints'), isDownloadCheckpoint);
    await runExport({ ecs: ecsConn() }, { cloud: 'ecs', imageId: id, format: 'qcow2', bucket: 'exports', prefix: 'web01' }, { destination: join(dir, 'web01.qcow2'), poll: POLL, partSize: 64 * 1024, sink, checkpoints });
    assert.ok((await readFile(join(dir, 'web01.qcow2'))).equals(ecs.world.exportBytes));
  } finally {
    ecsProxy.setPlan(undefined);
    await cleanup();
  }
  for (const kind of ['reset', '500', '503', 'stall']) assert.ok((plan.seen.get(kind) ?? 0) >= 2, `${kind} injected: ${JSON.stringify([...plan.seen])}`);
  assert.ok(retries.includes('InternalError') && retries.includes('ServiceUnavailable') && retries.includes('ECONNRESET') && retries.includes('ETIMEDOUT'), retries.join(','));
});

test('a cloud that never answers is CLOUD_UNAVAILABLE after the retry budget; a permanent code fails at once with the cloud\'s code', async () => {
  ecsProxy.setPlan(({ url }) => (ECS_API('GET', url) ? { kind: 'reset' } : undefined));
  const before = ecsProxy.log.length;
  try {
    const err = await rejectsWith(shareEcsImage(ecsConn({ ...RETRY, attempts: 3 }), REGION, 'm-none', ['1234567890123456']), 'CLOUD_UNAVAILABLE');
    assert.match(err.message, /ECONNRESET.*after 3 attempts|after 3 attempts/);
    assert.equal(ecsProxy.log.length - before, 3, 'three attempts, no more');
  } finally {
    ecsProxy.setPlan(undefined);
  }
  ec2Proxy.setPlan(({ method, url }) => (EC2_API(method, url) ? { kind: 'status', status: 503, code: 'Unavailable', body: EC2_503, contentType: 'text/xml' } : undefined));
  try {
    await rejectsWith(copyAwsImage({ ...awsConn(), retry: { ...RETRY, attempts: 2 } }, { sourceImageId: 'ami-faults', sourceRegion: 'eu-west-1', destinationRegion: 'us-east-1', name: 'x', poll: POLL }), 'CLOUD_UNAVAILABLE');
  } finally {
    ec2Proxy.setPlan(undefined);
  }
  ec2.failNext.set('ImportImage', new Ec2Error(400, 'InvalidParameter', 'The service role vmimport does not exist.'));
  const before2 = ec2.callsOf('ImportImage').length;
  const err = await rejectsWith(runImportStep({ cloud: 'aws', connection: awsConn(), import: { target: 'aws-image', disks: [{ bucket: 'up', key: 'x', format: 'RAW' }] }, poll: POLL }), 'CLOUD_API_ERROR');
  assert.match(err.message, /InvalidParameter/);
  assert.equal(ec2.callsOf('ImportImage').length - before2, 1, 'a permanent error is not retried');
});
