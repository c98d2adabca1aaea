import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EcsRpcFake } from '../helpers/ecs-rpc-fake/server.js';
import { ossClient } from '../../agent/cloud/ecs/ecs-checks.js';

test('OSS requests with temporary (STS) keys fetch fresh keys once the last ones are a minute old (ECS RPC API protocol fake OSS routes check x-oss-security-token)', async () => {
  const fake = await EcsRpcFake.start();
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  try {
    fake.world.buckets.set('exports', { storageClass: 'Standard' });
    const first = { accessKeyId: 'STS.NUfirst00001', accessKeySecret: 's1', securityToken: 'CAIS-first' };
    const second = { accessKeyId: 'STS.NUsecond0001', accessKeySecret: 's2', securityToken: 'CAIS-second' };
    fake.addKey(first.accessKeyId, first.accessKeySecret, first.securityToken);
    let refreshed = 0;
    const oss = ossClient({ region: 'cn-hangzhou', endpoint: `http://localhost:${fake.host.split(':')[1]}`, ...first, refreshCredentials: async () => (refreshed++, second) });
    await oss.getBucketInfo('exports');
    await oss.getBucketInfo('exports');
    assert.equal(refreshed, 0, 'fresh keys are reused');
    // The first token expires; the credential chain has the next one.
    fake.addKey(first.accessKeyId, first.accessKeySecret, 'CAIS-revoked');
    fake.addKey(second.accessKeyId, second.accessKeySecret, second.securityToken);
    mock.timers.tick(61_000);
    const info = await oss.getBucketInfo('exports');
    assert.equal(refreshed, 1);
    assert.equal((info.bucket as { StorageClass?: string }).StorageClass, 'Standard');
  } finally {
    mock.timers.reset();
    await fake.close();
  }
});
