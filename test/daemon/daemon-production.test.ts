import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { vmxfer } from '../helpers/run-command.js';

function get(url: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end();
  });
}

const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

test('a read-only metrics token opens GET /metrics and nothing else; requests and 401s are logged without secrets; a finished job logs bytes, duration, digests, ETag and destination', async () => {
  const metricsToken = randomBytes(20).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-prod-'));
  const d = await startDaemon({ stateDir: dir, env: { VMXFER_METRICS_TOKEN: metricsToken } });
  try {
    assert.equal(await get(`${d.url}/metrics?token=${d.token}`, metricsToken), 200, 'the metrics token reads /metrics');
    assert.equal(await get(`${d.url}/v1/jobs`, metricsToken), 401, 'the metrics token opens no API endpoint');
    assert.equal(await get(`${d.url}/metrics`, d.token), 200, 'the API token still reads /metrics');
    assert.equal(await get(`${d.url}/metrics`), 401);

    const src = join(dir, 'disk.raw');
    await writeFile(src, randomBytes(3 << 20));
    await mkdir(join(dir, 'store'));
    const destination = `file://${join(dir, 'store')}/disk.raw`;
    const submit = await d.api('POST', '/v1/jobs', { source: src, destination });
    assert.equal(submit.status, 201, submit.text);
    const id = submit.json.job.id as string;
    const job = await waitForJob(d, id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));

    const lines = logLines(d.output());
    const requests = lines.filter((l) => l.msg === 'request');
    const metricsLine = requests.find((l) => l.path === '/metrics' && l.status === 200);
    assert.ok(metricsLine, 'GET /metrics is logged');
    assert.equal(metricsLine.method, 'GET');
    assert.equal(typeof metricsLine.ms, 'number');
    assert.ok(requests.some((l) => l.method === 'POST' && l.path === '/v1/jobs' && l.status === 201));
    const refused = lines.filter((l) => /unauthorized request/.test(l.msg));
    assert.equal(refused.length, 2, 'one warning per 401');
    assert.deepEqual(refused.map((l) => l.path).sort(), ['/metrics', '/v1/jobs']);
    assert.ok(!d.output().includes(d.token) && !d.output().includes(metricsToken), 'no token appears in the log (nor the query that carried one)');

    const done = lines.find((l) => l.msg === 'job completed');
    assert.ok(done, 'a completion line');
    assert.deepEqual(
      { job: done.job, destination: done.destination, bytes: done.bytes, etag: done.etag, digest: done.digest },
      { job: id, destination, bytes: 3 << 20, etag: job.result.etag, digest: job.result.outputDigest },
    );
    assert.ok(done.seconds >= 0 && /^sha256-linear-512k:[0-9a-f]{64}$/.test(done.digest), done.digest);
  } finally {
    await d.stop();
  }
});

test('a metrics token equal to the API token is refused at start (API_WEAK_TOKEN)', async () => {
  const token = randomBytes(20).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-prod-'));
  const r = await vmxfer(['daemon', '--listen', '127.0.0.1:0', '--state-dir', dir], { env: { VMXFER_TOKEN: token, VMXFER_METRICS_TOKEN: token } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /metrics token from VMXFER_METRICS_TOKEN is the API token.*API_WEAK_TOKEN/);
});
