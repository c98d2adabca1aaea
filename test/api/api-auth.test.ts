import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { apiRequest, startDaemon, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let root: string;

before(async () => {
  d = await startDaemon();
  root = join(d.stateDir, 'images');
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'disk.raw'), Buffer.alloc(1024 * 1024, 7));
  // A link inside the root that points outside it.
  await symlink('/etc/passwd', join(root, 'escape.raw'));
  await writeFile(d.configFile, JSON.stringify({ state_dir: d.stateDir, source_roots: [root], listen: { host: '127.0.0.1', port: Number(new URL(d.url).port) } }));
  process.kill(d.pid, 'SIGHUP');
  await waitFor(() => /configuration reloaded/.test(d.output()));
});

after(async () => {
  await d?.stop();
  await rm(d.stateDir, { recursive: true, force: true });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ENDPOINTS: Array<[string, string, unknown?]> = [
  ['GET', '/metrics'],
  ['GET', '/v1/jobs'],
  ['POST', '/v1/jobs', { source: '/x', destination: 'file:///tmp/x' }],
  ['GET', '/v1/jobs/j-20260101-abcdef'],
  ['POST', '/v1/jobs/j-20260101-abcdef/cancel'],
  ['GET', '/v1/agents'],
  ['GET', '/v1/nothing-here'],
];

test('every authenticated endpoint answers 401 JSON to a missing, wrong or differently-sized token', async () => {
  const wrong = [null, 'x', d.token.slice(0, -1) + (d.token.endsWith('0') ? '1' : '0'), d.token + 'a'];
  for (const [method, path, body] of ENDPOINTS) {
    for (const token of wrong) {
      const r = await apiRequest(d.url, token, method, path, body);
      assert.equal(r.status, 401, `${method} ${path} with ${token === null ? 'no token' : 'a wrong token'}`);
      assert.equal(r.json.error.code, 'API_UNAUTHORIZED');
    }
    const basic = await apiRequest(d.url, null, method, path, body, { authorization: `Basic ${Buffer.from(`u:${d.token}`).toString('base64')}` });
    assert.equal(basic.status, 401);
  }
});

test('health and readiness need no token; the right token opens the API', async () => {
  assert.deepEqual((await apiRequest(d.url, null, 'GET', '/healthz')).json, { status: 'ok' });
  assert.deepEqual((await apiRequest(d.url, null, 'GET', '/readyz')).json, { status: 'ready' });
  const list = await d.api('GET', '/v1/jobs');
  assert.equal(list.status, 200);
  assert.ok(Array.isArray(list.json.jobs));
  assert.equal((await d.api('GET', '/v1/jobs/j-20260101-abcdef')).json.error.code, 'API_NOT_FOUND');
});

test('the feed closes with 4401 on a wrong token and on a first message that is not auth', async () => {
  for (const first of [{ type: 'auth', token: 'nope' }, { type: 'hello' }]) {
    const ws = new WebSocket(d.url.replace('http', 'ws') + '/v1/feed');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify(first));
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    assert.equal(code, 4401);
  }
});

test('bad bodies get 400 naming the field; oversized bodies 413', async () => {
  const src = join(root, 'disk.raw');
  const cases: Array<[unknown, string]> = [
    ['{not json', 'body'],
    [[1, 2], 'body'],
    [{ destination: 'file:///tmp/o.raw' }, 'source'],
    [{ source: src }, 'destination'],
    [{ source: src, destination: 'ftp://x/y' }, 'destination'],
    [{ source: src, destination: 'file:///tmp/o.x', format: 'iso' }, 'format'],
    [{ source: 'relative/path.raw', destination: 'file:///tmp/o.x' }, 'source'],
    [{ source: src, destination: 'file:///tmp/o.x', options: { concurrency: 0 } }, 'options.concurrency'],
    [{ source: src, destination: 'file:///tmp/o.x', options: { partSize: '1KiB' } }, 'options.partSize'],
    [{ source: src, destination: 'file:///tmp/o.x', options: { tags: { a: 5 } } }, 'options.tags.a'],
    [{ source: src, destination: 'file:///tmp/o.x', options: { colour: 'red' } }, 'options.colour'],
    [{ source: src, destination: 'file:///tmp/o.x', extra: 1 }, 'extra'],
  ];
  for (const [body, field] of cases) {
    const r = await d.api('POST', '/v1/jobs', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.code, 'API_BAD_REQUEST', JSON.stringify(r.json));
    assert.equal(r.json.error.field, field, JSON.stringify(r.json));
  }
  const big = await d.api('POST', '/v1/jobs', JSON.stringify({ source: 'x'.repeat(70 * 1024) }));
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, 'API_BODY_TOO_LARGE');
});

test('sources are confined to the roots: /etc/shadow and a symlink out of a root are refused', async () => {
  for (const source of ['/etc/shadow', join(root, 'escape.raw'), join(root, '..', 'test-config.yaml')]) {
    const r = await d.api('POST', '/v1/jobs', { source, destination: `file://${root}/out.raw` });
    assert.equal(r.status, 400, source);
    assert.equal(r.json.error.code, 'API_OUTSIDE_ROOTS', JSON.stringify(r.json));
    assert.equal(r.json.error.field, 'source');
  }
  const parent = await d.api('POST', '/v1/jobs', { source: join(root, 'disk.raw'), destination: `file://${root}/o.raw`, options: { parent: '/etc/shadow' } });
  assert.equal(parent.json.error.field, 'options.parent');
  const download = await d.api('POST', '/v1/jobs', { source: 's3://bucket-x/k', destination: '/etc/cron.d/evil' });
  assert.equal(download.json.error.code, 'API_OUTSIDE_ROOTS');
  assert.equal(download.json.error.field, 'destination');
});

test('SIGHUP logged which keys changed and which need a restart', () => {
  const line = d.output().split('\n').find((l) => l.includes('configuration reloaded'))!;
  const entry = JSON.parse(line);
  assert.ok(entry.changed.includes('source_roots'), line);
  assert.ok(entry.changed.includes('logging.level') === false);
  assert.deepEqual(entry.needRestart, []);
});

test('the token appears in no log line and no response', async () => {
  const r = await d.api('GET', '/v1/jobs');
  assert.ok(!r.text.includes(d.token));
  assert.ok(!(await d.api('GET', '/metrics')).text.includes(d.token));
  assert.ok(!d.output().includes(d.token));
});
