import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { RpcError } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { dryRunEcsImport } from '../../agent/cloud/ecs/ecs-import.js';
import { ecsClients } from '../../agent/cloud/ecs/ecs-clients.js';
import { importStepParams } from '../../agent/cloud/upload-import/import-step-params.js';
import { remoteImportPreflight } from '../../agent/cloud/upload-import/remote-import-preflight.js';
import type { ImportOptions } from '../../agent/cloud/upload-import/import-options.js';
import type { EcsConnection } from '../../agent/cloud/ecs/ecs-clients.js';
import { isVmxferError } from '../../agent/core/errors.js';

let fake: EcsRpcFake;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const OBJECT = { bucket: 'up', key: 'web01/system.qcow2', format: 'qcow2', virtualSize: 1024 ** 3 };

before(async () => {
  fake = await EcsRpcFake.start();
});
after(() => fake.close());

function connection(): EcsConnection {
  return { region: 'cn-hangzhou', endpoint: fake.host, protocol: 'http', accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } };
}

const options = (extra: Partial<ImportOptions> = {}): ImportOptions => ({ target: 'ecs-image', imageName: 'web01', ...extra });

/** The ImportImage calls since `from`, as "dry" / "real". */
function importCalls(from: number): string[] {
  return fake.calls.slice(from).filter((c) => c.action === 'ImportImage').map((c) => (c.params.DryRun === 'true' ? 'dry' : 'real'));
}

test('ECS import through the step an upload runs: DryRun is on by default; a DryRun the ECS RPC API protocol fake refuses (role missing) stops before the real ImportImage; dryRun false sends the real call only', async () => {
  let from = fake.calls.length;
  await runImportStep(importStepParams(options(), OBJECT, { ecs: connection() }, POLL));
  assert.deepEqual(importCalls(from), ['dry', 'real']);
  const before = fake.world.images.size;
  await dryRunEcsImport(ecsClients(connection()), { target: 'ecs-image', imageName: 'web02', disks: [{ ossBucket: 'up', ossObject: 'a.raw', format: 'RAW' }], clientToken: 'dry-only' });
  assert.equal(fake.world.images.size, before, 'a DryRun that passes creates no image');
  const trust = fake.world.roles.get('AliyunECSImageImportDefaultRole')!;
  fake.world.roles.delete('AliyunECSImageImportDefaultRole');
  try {
    from = fake.calls.length;
    const images = fake.world.images.size;
    await assert.rejects(runImportStep(importStepParams(options(), OBJECT, { ecs: connection() }, POLL)), (err) => isVmxferError(err) && err.message.includes('NoSetRoletoECSServiceAcount'));
    assert.deepEqual(importCalls(from), ['dry']);
    assert.equal(fake.world.images.size, images, 'the refused DryRun created no image');
  } finally {
    fake.world.roles.set('AliyunECSImageImportDefaultRole', trust);
  }
  from = fake.calls.length;
  await runImportStep(importStepParams(options({ dryRun: false }), OBJECT, { ecs: connection() }, POLL));
  assert.deepEqual(importCalls(from), ['real']);
});

test('the ECS import role check before an upload: missing is EntityNotExist.Role, a RAM GetRole refused with NoPermission is a warning, checkRole false asks RAM nothing', async () => {
  const trust = fake.world.roles.get('AliyunECSImageImportDefaultRole')!;
  fake.world.roles.delete('AliyunECSImageImportDefaultRole');
  try {
    const missing = await remoteImportPreflight(options(), { ecs: connection() });
    assert.deepEqual(missing.map((f) => `${f.severity} ${f.cloudCode}`), ['error EntityNotExist.Role']);
  } finally {
    fake.world.roles.set('AliyunECSImageImportDefaultRole', trust);
  }
  fake.failNext.set('GetRole', new RpcError(403, 'NoPermission', 'You are not authorized to do this action.'));
  const denied = await remoteImportPreflight(options(), { ecs: connection() });
  assert.deepEqual(denied.map((f) => `${f.severity} ${f.rule} ${f.cloudCode}`), ['warning role-unverified NoPermission']);
  assert.match(denied[0]!.hint, /Grant ram:GetRole/);
  const from = fake.calls.length;
  assert.deepEqual(await remoteImportPreflight(options({ checkRole: false }), { ecs: connection() }), []);
  assert.equal(fake.calls.slice(from).length, 0);
});
