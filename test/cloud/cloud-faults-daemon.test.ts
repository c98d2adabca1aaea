import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { importWorld, type ImportWorld } from '../helpers/import-world.js';
import { startFaultProxy, type FaultProxy, type ProxyFault } from '../helpers/fault-proxy.js';

/**
 * A daemon whose EC2 and IAM calls go through a fault-injecting proxy in front of the EC2 Query API
 * protocol fake: every other API request is reset, answered 500 or 503 Unavailable, or stalled past
 * `cloud.request_timeout_seconds`. The job still uploads (real RGW), imports, copies and shares.
 */
let world: ImportWorld;
let proxy: FaultProxy;
const A = '111122223333';
/** Longer than the job may take: only a request timeout (cloud.request_timeout_seconds) gets past a stalled call. */
const STALL_MS = 60_000;
const UNAVAILABLE = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>Unavailable</Code><Message>The server is overloaded.</Message></Error></Errors><RequestID>fp</RequestID></Response>`;

before(async () => {
  world = await importWorld('cloud-faults', 2);
  proxy = await startFaultProxy(world.ec2.url);
});
after(async () => {
  await proxy?.close();
  await world?.close();
});

test('an API job upload → import → copy → share completes through resets, 500s, 503 Unavailable and stalls on every EC2 call (fault proxy before the EC2 Query API protocol fake)', async () => {
  const faults: ProxyFault[] = [{ kind: 'reset' }, { kind: 'status', status: 500, code: 'InternalError' }, { kind: 'status', status: 503, code: 'Unavailable', body: UNAVAILABLE, contentType: 'text/xml' }, { kind: 'stall', ms: STALL_MS }];
  const injected = new Map<string, number>();
  let n = 0;
  proxy.setPlan(({ method, url }) => {
    if (method !== 'POST' || url !== '/') return undefined;
    const k = n++;
    if (k % 2 === 1) return undefined;
    const f = faults[(k / 2) % faults.length]!;
    injected.set(f.kind === 'status' ? String(f.status) : f.kind, (injected.get(f.kind === 'status' ? String(f.status) : f.kind) ?? 0) + 1);
    return f;
  });
  const d = await startDaemon({
    sourceRoots: [world.dir],
    env: { AWS_ACCESS_KEY_ID: world.rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: world.rgw.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' },
    config: {
      stores: { s3_endpoint: world.rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true },
      cloud: { aws_endpoint: proxy.endpoint, poll_seconds: 0.01, retries: 8, request_timeout_seconds: 0.8 },
    },
  });
  try {
    const key = `faults/${randomBytes(3).toString('hex')}.vmdk`;
    const r = await d.api('POST', '/v1/jobs', { source: world.raw, destination: `s3://${world.bucket.name}/${key}`, format: 'vmdk', import: { target: 'aws-image', copy: { regions: ['us-west-2'] }, share: { accounts: [A] } } });
    assert.equal(r.status, 201, r.text);
    const t0 = Date.now();
    const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state), 120_000);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.ok(Date.now() - t0 < STALL_MS - 5000, `the job took ${Date.now() - t0} ms: a stalled call was waited out instead of timed out`);
    const ami = job.result.import.resourceIds[0];
    assert.match(ami, /^ami-/);
    assert.equal(job.result.import.copies.length, 1);
    assert.match(job.result.import.copies[0].imageId, /^ami-/);
    for (const s of job.result.import.shares) assert.deepEqual(s.accounts, [{ account: A, shared: true }]);
    const imports = world.ec2.callsOf('ImportImage').filter((c) => c.params.DryRun !== 'true');
    assert.equal(new Set(imports.map((c) => c.params.ClientToken)).size, 1, 'every ImportImage retry carried the same ClientToken');
    assert.equal(new Set(imports.map((c) => world.ec2.world.tokens.get(c.params.ClientToken!))).size, 1, 'one import task');
    for (const kind of ['reset', '500', '503', 'stall']) assert.ok((injected.get(kind) ?? 0) >= 1, `${kind} injected: ${JSON.stringify([...injected])}`);
    assert.match((await d.api('GET', '/metrics')).text, /vmxfer_/);
  } finally {
    proxy.setPlan(undefined);
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
