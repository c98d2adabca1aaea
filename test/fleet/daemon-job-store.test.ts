import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { openRedis } from '../../agent/fleet/redis-connection.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { privateRedis, redisPrefix } from '../helpers/redis.js';

function readyz(d: TestDaemon): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(`${d.url}/readyz`, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('daemon on the shared job store (real Redis): the job runs under agent.name, in Redis; /readyz is 503 while Redis is down and 200 after it is back; the store closes at SIGTERM', async () => {
  const redis = await privateRedis('daemon');
  const prefix = redisPrefix('daemon');
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-fleet-daemon-'));
  const conn = openRedis(redis.url, 'engine');
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon({ stateDir: dir, env: { VMXFER_JOB_STORE_URL: redis.url, VMXFER_AGENT_NAME: 'site-b-appliance' }, config: { job_store: { prefix, lease_seconds: 10 } } });
    const src = join(dir, 'disk.raw');
    const bytes = randomBytes(3 << 20);
    await writeFile(src, bytes);
    await mkdir(join(dir, 'store'));
    const submit = await d.api('POST', '/v1/jobs', { source: src, destination: `file://${join(dir, 'store')}/disk.raw` });
    assert.equal(submit.status, 201, submit.text);
    const id = submit.json.job.id as string;
    const job = await until('the job done', async () => {
      const j = (await d!.api('GET', `/v1/jobs/${id}`)).json.job;
      return ['completed', 'failed'].includes(j.state) ? j : undefined;
    });
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.equal(job.agent, 'site-b-appliance');
    assert.deepEqual(await readFile(join(dir, 'store', 'disk.raw')), bytes);
    const stored = JSON.parse((await conn.get(`${prefix}:job:${id}`))!);
    assert.equal(stored.agent, 'site-b-appliance', 'the record lives in Redis under job_store.prefix');
    assert.deepEqual(await readyz(d), { status: 200, body: JSON.stringify({ status: 'ready' }) });

    await redis.stop(true);
    const down = await until('readyz 503', async () => {
      const r = await readyz(d!);
      return r.status === 503 ? r : undefined;
    });
    assert.deepEqual(JSON.parse(down.body), { status: 'store-unreachable' });
    await redis.restart();
    await until('readyz 200 again', async () => ((await readyz(d!)).status === 200 ? true : undefined));
    const again = await d.api('GET', `/v1/jobs/${id}`);
    assert.equal(again.json.job.state, 'completed', 'the record survived the restart of Redis (append-only file)');
    assert.equal(await d.stop(), 0);
    assert.match(d.output(), /"msg":"stopped"/);
  } finally {
    if (d) await d.stop().catch(() => undefined);
    conn.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
