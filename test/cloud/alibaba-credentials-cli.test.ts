import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { EcsRpcFake } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';

let ecs: EcsRpcFake;
let dir: string;
let cleanup: () => Promise<void>;

/** Every credential source of the chain emptied: each test names only the one it exercises. */
function bareEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home, ALIBABA_CLOUD_ACCESS_KEY_ID: '', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '', ALIBABA_CLOUD_SECURITY_TOKEN: '',
    OSS_ACCESS_KEY_ID: '', OSS_ACCESS_KEY_SECRET: '', ALIBABA_CLOUD_CREDENTIALS_FILE: '', ALIBABA_CLOUD_CREDENTIALS_URI: '',
    ALIBABA_CLOUD_ROLE_ARN: '', ALIBABA_CLOUD_OIDC_TOKEN_FILE: '', ALIBABA_CLOUD_PROFILE: '', ALIBABA_CLOUD_REGION_ID: '', ...extra,
  };
}

/** An image in the fake and the bucket its export writes to. */
function exportable(): string {
  const id = ecsId('m');
  ecs.world.images.set(id, { id, region: 'cn-hangzhou', name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
  ecs.world.buckets.set('exports', { storageClass: 'Standard' });
  return id;
}

function exportArgs(imageId: string, dst: string): string[] {
  const port = ecs.host.split(':')[1];
  return ['export', 'ecs', '--image-id', imageId, '--format', 'qcow2', '--oss-bucket', 'exports', '--oss-prefix', 'web01', dst, '--region', 'cn-hangzhou', '--endpoint', `http://${ecs.host}`, '--oss-endpoint', `http://localhost:${port}`, '--poll-seconds', '0.005'];
}

/** Every call the fake accepted since `from` used this key, and carried `token` as SecurityToken. */
function signedWith(from: number, keyId: string, token: string | undefined): void {
  const calls = ecs.calls.slice(from);
  assert.ok(calls.length >= 4, `GetRole, DescribeImages, ExportImage, DescribeTasks at least; got ${calls.map((c) => c.action).join(',')}`);
  for (const c of calls) {
    assert.equal(c.params.AccessKeyId, keyId, c.action);
    assert.equal(c.params.SecurityToken, token, c.action);
  }
}

before(async () => {
  ecs = await EcsRpcFake.start();
  ({ dir, cleanup } = await tempDir());
});
after(async () => {
  await ecs.close();
  await cleanup();
});

test('vmxfer export ecs with an STS profile from ~/.aliyun/config.json: the ECS RPC API protocol fake checks the key and its SecurityToken, OSS reads carry it too', async () => {
  const home = join(dir, 'home-cli');
  await mkdir(join(home, '.aliyun'), { recursive: true });
  const sts = { id: 'STS.NUcliprofile0001', secret: 'sts-secret-1', token: 'CAIS-cli-profile-token' };
  ecs.addKey(sts.id, sts.secret, sts.token);
  await writeFile(join(home, '.aliyun', 'config.json'), JSON.stringify({ current: 'ops', profiles: [{ name: 'ops', mode: 'StsToken', access_key_id: sts.id, access_key_secret: sts.secret, sts_token: sts.token, region_id: 'cn-hangzhou' }] }));
  ecs.world.exportBytes = randomBytes(70_000);
  const from = ecs.calls.length;
  const dst = join(dir, 'cli-profile.qcow2');
  const r = await vmxfer(exportArgs(exportable(), dst), { env: bareEnv(home) });
  assert.equal(r.code, 0, r.stderr);
  signedWith(from, sts.id, sts.token);
  assert.ok((await readFile(dst)).equals(ecs.world.exportBytes), 'the OSS download was accepted with the STS token');
});

test('a credentials file (ALIBABA_CLOUD_CREDENTIALS_FILE) is used; a key the ECS RPC API protocol fake does not know is InvalidAccessKeyId.NotFound', async () => {
  const known = { id: 'LTAIcredfile0001', secret: 'credfile-secret' };
  ecs.addKey(known.id, known.secret);
  const file = join(dir, 'credentials.ini');
  await writeFile(file, `[default]\ntype = access_key\naccess_key_id = ${known.id}\naccess_key_secret = ${known.secret}\n\n[stranger]\ntype = access_key\naccess_key_id = LTAIunknown00001\naccess_key_secret = whatever\n`);
  const home = join(dir, 'home-empty');
  await mkdir(home, { recursive: true });
  ecs.world.exportBytes = randomBytes(30_000);
  const from = ecs.calls.length;
  const ok = await vmxfer(exportArgs(exportable(), join(dir, 'credfile.qcow2')), { env: bareEnv(home, { ALIBABA_CLOUD_CREDENTIALS_FILE: file }) });
  assert.equal(ok.code, 0, ok.stderr);
  signedWith(from, known.id, undefined);
  const bad = await vmxfer(exportArgs(exportable(), join(dir, 'stranger.qcow2')), { env: bareEnv(home, { ALIBABA_CLOUD_CREDENTIALS_FILE: file, ALIBABA_CLOUD_PROFILE: 'stranger' }) });
  assert.equal(bad.code, 7, bad.stderr);
  assert.match(bad.stderr, /InvalidAccessKeyId\.NotFound/);
});

test('an STS credential from ALIBABA_CLOUD_CREDENTIALS_URI (a local HTTP server) reaches the ECS RPC API protocol fake with its SecurityToken', async () => {
  const sts = { id: 'STS.NUcredsuri0001', secret: 'uri-secret', token: 'CAIS-uri-token' };
  ecs.addKey(sts.id, sts.secret, sts.token);
  let served = 0;
  const server: Server = createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'application/json' });
    // The credentials URI answer (providers/uri.js): AccessKeyId, AccessKeySecret, SecurityToken, Expiration.
    res.end(JSON.stringify({ Code: 'Success', AccessKeyId: sts.id, AccessKeySecret: sts.secret, SecurityToken: sts.token, Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z') }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const home = join(dir, 'home-uri');
    await mkdir(home, { recursive: true });
    ecs.world.exportBytes = randomBytes(50_000);
    const from = ecs.calls.length;
    const dst = join(dir, 'uri.qcow2');
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`;
    const r = await vmxfer(exportArgs(exportable(), dst), { env: bareEnv(home, { ALIBABA_CLOUD_CREDENTIALS_URI: uri, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }) });
    assert.equal(r.code, 0, r.stderr);
    signedWith(from, sts.id, sts.token);
    assert.ok((await readFile(dst)).equals(ecs.world.exportBytes));
    assert.equal(served, 1, 'one fetch, cached for the ECS, RAM and OSS clients of the run');
  } finally {
    server.close();
  }
});

test('no Alibaba credentials anywhere: a typed CLOUD_NO_CREDENTIALS naming the sources tried, exit 2, no call reaches the ECS RPC API protocol fake', async () => {
  const home = join(dir, 'home-none');
  await mkdir(home, { recursive: true });
  const from = ecs.calls.length;
  const started = Date.now();
  const r = await vmxfer(exportArgs(exportable(), join(dir, 'none.qcow2')), { env: bareEnv(home) });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /CLOUD_NO_CREDENTIALS/);
  for (const source of ['ALIBABA_CLOUD_ACCESS_KEY_ID', '~/.aliyun/config.json', 'ALIBABA_CLOUD_CREDENTIALS_FILE', 'RAM role', 'ALIBABA_CLOUD_CREDENTIALS_URI']) assert.ok(r.stderr.includes(source), `${source} named: ${r.stderr}`);
  assert.ok(Date.now() - started < 20_000, 'the chain gives up promptly');
  assert.equal(ecs.calls.length, from);
});
