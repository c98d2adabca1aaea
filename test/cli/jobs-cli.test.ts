import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { vmxfer, run } from '../helpers/run-command.js';
import { qemuImg } from '../helpers/qemu.js';
import { apiCall } from '../../agent/cli/daemon-client.js';

const MiB = 1024 * 1024;
let d: TestDaemon;
let tokenFile: string;

before(async () => {
  d = await startDaemon({ config: { transfer: { part_size: '5MiB', bwlimit: '16MiB' } } });
  tokenFile = join(d.stateDir, 'client-token');
  await writeFile(tokenFile, d.token + '\n', { mode: 0o600 });
});
after(async () => {
  await d?.stop();
  await rm(d.stateDir, { recursive: true, force: true });
});

test('jobs submit --watch --json follows a conversion to the end; list, show and cancel talk to the same daemon', async () => {
  const src = join(d.stateDir, 'disk.raw');
  const disk = Buffer.alloc(20 * MiB);
  randomBytes(3 * MiB).copy(disk, 5 * MiB);
  await writeFile(src, disk);
  const out = join(d.stateDir, 'disk.qcow2');
  const flags = ['--config', d.configFile, '--token-file', tokenFile];
  const sub = await vmxfer(['jobs', 'submit', src, `file://${out}`, '--as', 'qcow2', '--watch', '--json', ...flags], { env: { VMXFER_TOKEN: '' } });
  assert.equal(sub.code, 0, sub.stderr);
  const lines = sub.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const id = lines[0].job.id;
  assert.equal(lines[1].type, 'snapshot');
  assert.ok(lines.some((m) => m.type === 'job' && m.job.id === id && m.job.state === 'completed'));
  await qemuImg(['compare', '-f', 'raw', '-F', 'qcow2', src, out]);

  const list = await vmxfer(['jobs', 'list', '--state', 'completed', '--json', ...flags]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).jobs.map((j: any) => j.id), [id]);
  const show = await vmxfer(['jobs', 'show', id, ...flags]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /parts: 1 done, 0 skipped/);
  const cancel = await vmxfer(['jobs', 'cancel', id, ...flags]);
  assert.equal(cancel.code, 2);
  assert.match(cancel.stderr, /API_NOT_CANCELLABLE/);
});

test('jobs cancel stops a running job; a wrong token and an unreachable daemon are typed errors', async () => {
  const src = join(d.stateDir, 'big.bin');
  // 512 MiB at the 16 MiB/s limit: still running when the (slow-starting) CLI cancels it.
  await writeFile(src, '');
  await truncate(src, 512 * MiB);
  const flags = ['--config', d.configFile, '--token-file', tokenFile];
  const sub = await d.api('POST', '/v1/jobs', { source: src, destination: `file://${d.stateDir}/big.out` });
  const id = sub.json.job.id;
  const cancel = await vmxfer(['jobs', 'cancel', id, ...flags]);
  assert.equal(cancel.code, 0, cancel.stderr);
  const watch = await vmxfer(['jobs', 'watch', id, ...flags]);
  assert.equal(watch.code, 130, 'watching a cancelled job exits like a cancelled command');
  const { json } = await apiCall({ url: d.url, token: d.token, ca: undefined }, 'GET', `/v1/jobs/${id}`);
  assert.equal(json.job.state, 'cancelled');

  await writeFile(join(d.stateDir, 'bad-token'), 'x'.repeat(32));
  const bad = await vmxfer(['jobs', 'list', '--config', d.configFile, '--token-file', join(d.stateDir, 'bad-token')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /API_UNAUTHORIZED/);
  const gone = await vmxfer(['jobs', 'list', '--url', 'http://127.0.0.1:1', '--token-file', tokenFile]);
  assert.equal(gone.code, 7);
  assert.match(gone.stderr, /API_DAEMON_UNREACHABLE/);
});

test('TLS: the daemon serves HTTPS with a self-signed certificate the client trusts from the configuration', async () => {
  const cert = join(d.stateDir, 'tls.crt');
  const key = join(d.stateDir, 'tls.key');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  const tls = await startDaemon({ config: { listen: { tls_cert: cert, tls_key: key } } });
  try {
    assert.ok(tls.url.startsWith('https://'));
    const list = await vmxfer(['jobs', 'list', '--json', '--config', tls.configFile], { env: { VMXFER_TOKEN: tls.token } });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).jobs, []);
    const plain = await vmxfer(['jobs', 'list', '--url', tls.url.replace('https', 'http'), '--token-file', tokenFile]);
    assert.equal(plain.code, 7, 'plain HTTP to the TLS listener fails');
    await assert.rejects(apiCall({ url: tls.url, token: tls.token, ca: undefined }, 'GET', '/v1/jobs'), /API_DAEMON_UNREACHABLE/);
  } finally {
    await tls.stop();
    await rm(tls.stateDir, { recursive: true, force: true });
  }
});
