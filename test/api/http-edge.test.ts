import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

/** The daemon's HTTP edge over loopback: methods, percent-encoding, token strength, non-file sources, cancelling a job stuck validating. */
const pexec = promisify(execFile);
let d: TestDaemon;
let work: { dir: string; cleanup: () => Promise<void> };
let sock: Server;

before(async () => {
  work = await tempDir('vmxfer-edge-');
  await writeFile(join(work.dir, 'disk.raw'), randomBytes(1024 * 1024));
  await writeFile(join(work.dir, 'big.raw'), randomBytes(8 * 1024 * 1024));
  await pexec('mkfifo', [join(work.dir, 'pipe.raw')]);
  await mkdir(join(work.dir, 'dir.raw'));
  sock = createServer();
  await new Promise<void>((r) => sock.listen(join(work.dir, 'sock.raw'), r));
  d = await startDaemon({ sourceRoots: [work.dir], config: { jobs: { max_concurrent: 1 }, transfer: { bwlimit: '1MiB' } } });
});
after(async () => {
  await d?.stop();
  await rm(d.stateDir, { recursive: true, force: true });
  sock?.close();
  await work?.cleanup();
});

interface Answer { status: number; allow: string | undefined; json: any }

/** One request on its own connection; rejects when no answer comes within `ms` (the connection stays open). */
function send(method: string, path: string, token: string | null, ms = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${d.url}${path}`, { method, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        clearTimeout(timer);
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, json });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${path}: no answer within ${ms} ms`));
    }, ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(method === 'POST' || method === 'PUT' || method === 'PATCH' ? '{}' : undefined);
  });
}

const ROUTES: Array<{ path: string; auth: boolean; allow: string[] }> = [
  { path: '/healthz', auth: false, allow: ['GET', 'HEAD'] },
  { path: '/readyz', auth: false, allow: ['GET', 'HEAD'] },
  { path: '/', auth: false, allow: ['GET', 'HEAD'] },
  { path: '/metrics', auth: true, allow: ['GET', 'HEAD'] },
  { path: '/v1/jobs', auth: true, allow: ['GET', 'HEAD', 'POST'] },
  { path: '/v1/jobs/j-20260101-abcdef', auth: true, allow: ['GET', 'HEAD'] },
  { path: '/v1/jobs/j-20260101-abcdef/cancel', auth: true, allow: ['POST'] },
  { path: '/v1/agents', auth: true, allow: ['GET', 'HEAD'] },
];

test('every route answers every method: 405 with Allow for the methods it does not take (POST/PUT/DELETE to /healthz and /readyz included), without a token where none is needed', async () => {
  for (const route of ROUTES) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await send(method, route.path, route.auth ? d.token : null);
      if (route.allow.includes(method)) {
        assert.notEqual(r.status, 405, `${method} ${route.path}`);
        continue;
      }
      assert.equal(r.status, 405, `${method} ${route.path}`);
      assert.equal(r.allow, route.allow.join(', '), `${method} ${route.path}: Allow`);
      if (method !== 'HEAD') assert.equal(r.json.error.code, 'API_METHOD_NOT_ALLOWED');
    }
  }
  // The unauthenticated flood of the report: every one answered, none left open.
  const flood = await Promise.all(Array.from({ length: 100 }, (_, i) => send(['POST', 'PUT', 'DELETE'][i % 3]!, i % 2 ? '/healthz' : '/readyz', null)));
  assert.ok(flood.every((r) => r.status === 405));
});

test('a malformed percent-encoding in a job id is a 400 naming the id, not a 500', async () => {
  for (const path of ['/v1/jobs/%E0%A4%A', '/v1/jobs/%ZZ', '/v1/jobs/%/cancel']) {
    const r = await send(path.endsWith('cancel') ? 'POST' : 'GET', path, d.token);
    assert.equal(r.status, 400, path);
    assert.equal(r.json.error.code, 'API_BAD_REQUEST', path);
    assert.equal(r.json.error.field, 'id', path);
  }
});

test('a source that is not a regular file or block device (FIFO, socket, directory) is refused at submit with 400 API_NOT_A_FILE', async () => {
  for (const name of ['pipe.raw', 'sock.raw', 'dir.raw']) {
    const r = await d.api('POST', '/v1/jobs', { source: join(work.dir, name), destination: `file://${join(work.dir, `out-${name}`)}`, format: 'raw' });
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.equal(r.json.error.code, 'API_NOT_A_FILE', name);
    assert.equal(r.json.error.field, 'source', name);
  }
  const parent = await d.api('POST', '/v1/jobs', { source: join(work.dir, 'disk.raw'), destination: `file://${join(work.dir, 'out-p.raw')}`, format: 'raw', options: { parent: join(work.dir, 'pipe.raw') } });
  assert.equal(parent.status, 400, parent.text);
  assert.equal(parent.json.error.code, 'API_NOT_A_FILE');
  assert.equal(parent.json.error.field, 'options.parent');
  assert.deepEqual((await d.api('GET', '/v1/jobs')).json.jobs, []);
});

test('a job stuck in validating (its source swapped for a FIFO while it was queued: the open blocks) is ended by cancel', async () => {
  const slow = await d.api('POST', '/v1/jobs', { source: join(work.dir, 'big.raw'), destination: `file://${join(work.dir, 'slow.raw')}`, format: 'raw' });
  assert.equal(slow.status, 201, slow.text);
  await waitForJob(d, slow.json.job.id, (j) => j.state === 'active');
  const src = join(work.dir, 'swapped.raw');
  await writeFile(src, randomBytes(64 * 1024));
  const r = await d.api('POST', '/v1/jobs', { source: src, destination: `file://${join(work.dir, 'swapped-out.qcow2')}`, format: 'qcow2' });
  assert.equal(r.status, 201, r.text);
  await rename(src, `${src}.gone`);
  await pexec('mkfifo', [src]);
  await d.api('POST', `/v1/jobs/${slow.json.job.id}/cancel`);
  await waitForJob(d, r.json.job.id, (j) => j.state !== 'queued');
  await new Promise((res) => setTimeout(res, 500));
  assert.equal((await d.api('GET', `/v1/jobs/${r.json.job.id}`)).json.job.state, 'validating', 'the open of the FIFO blocks');
  const c = await d.api('POST', `/v1/jobs/${r.json.job.id}/cancel`);
  assert.equal(c.status, 202, c.text);
  const ended = await waitForJob(d, r.json.job.id, (j) => ['cancelled', 'failed', 'completed'].includes(j.state), 10_000);
  assert.equal(ended.state, 'cancelled');
  // The next job runs: the cancelled one gave its slot back.
  const next = await d.api('POST', '/v1/jobs', { source: join(work.dir, 'disk.raw'), destination: `file://${join(work.dir, 'next.raw')}`, format: 'raw' });
  const done = await waitForJob(d, next.json.job.id, (j) => ['completed', 'failed'].includes(j.state), 30_000);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  // Unblock the stranded open (a writer appears) so the daemon's thread pool gets its thread back.
  const fh = await open(src, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
  await fh?.close();
});

async function daemonWith(env: Record<string, string>, config: Record<string, unknown>): Promise<{ code: number; out: string }> {
  const { dir, cleanup } = await tempDir('vmxfer-token-');
  try {
    const file = join(dir, 'config.yaml');
    await writeFile(file, JSON.stringify({ state_dir: join(dir, 'state'), source_roots: [dir], listen: { host: '127.0.0.1', port: 0 }, ...config }));
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'daemon', '--config', file], { env: { ...process.env, VMXFER_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
    const code = await new Promise<number>((r) => child.once('exit', (c, s) => r(c ?? (s ? 128 : -1))));
    clearTimeout(timer);
    return { code, out };
  } finally {
    await cleanup();
  }
}

test('tokens shorter than 16 characters or holding whitespace are refused from every source (VMXFER_TOKEN, auth.token_file, <state_dir>/token) with API_WEAK_TOKEN', async () => {
  const { dir, cleanup } = await tempDir('vmxfer-token-files-');
  try {
    const short = join(dir, 'short');
    await writeFile(short, 'abc\n');
    const spaced = join(dir, 'spaced');
    await writeFile(spaced, 'abcdefgh ijklmnopqrstuvwxyz\n');
    const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
      ['VMXFER_TOKEN of whitespace', { VMXFER_TOKEN: '   ' }, {}],
      ['VMXFER_TOKEN of one character', { VMXFER_TOKEN: 'x' }, {}],
      ['VMXFER_TOKEN of 15 characters', { VMXFER_TOKEN: 'abcdefghijklmno' }, {}],
      ['VMXFER_TOKEN with inner whitespace', { VMXFER_TOKEN: 'abcdefgh ijklmnopqrstuvwxyz' }, {}],
      ['auth.token_file of 3 characters', {}, { auth: { token_file: short } }],
      ['auth.token_file with inner whitespace', {}, { auth: { token_file: spaced } }],
    ];
    for (const [name, env, config] of cases) {
      const r = await daemonWith(env, config);
      assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.out}`);
      assert.match(r.out, /API_WEAK_TOKEN/, name);
      assert.doesNotMatch(r.out, /"msg":"ready"/, name);
    }
    // A generated token file that someone shortened.
    const state = join(dir, 'state');
    await mkdir(state);
    await writeFile(join(state, 'token'), 'short\n');
    const file = join(dir, 'c.yaml');
    await writeFile(file, JSON.stringify({ state_dir: state, source_roots: [dir], listen: { host: '127.0.0.1', port: 0 } }));
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'daemon', '--config', file], { env: { ...process.env, VMXFER_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
    assert.equal(code, 2, err);
    assert.match(err, /API_WEAK_TOKEN/);
  } finally {
    await cleanup();
  }
});
