import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

/** docs/api.md "Wave submit", `priority` and `agent` in the submit body, GET /v1/agents: one daemon on the embedded store. */
let d: TestDaemon;
let work: { dir: string; cleanup: () => Promise<void> };
const AGENT = 'agent-w1';

before(async () => {
  work = await tempDir('vmxfer-wave-');
  await writeFile(join(work.dir, 'disk.raw'), randomBytes(256 * 1024));
  await writeFile(join(work.dir, 'big.raw'), randomBytes(16 * 1024 * 1024));
  d = await startDaemon({ sourceRoots: [work.dir], config: { agent: { name: AGENT }, jobs: { max_concurrent: 1 }, transfer: { bwlimit: '1MiB' } } });
});
after(async () => {
  await d?.stop();
  await rm(d.stateDir, { recursive: true, force: true });
  await work?.cleanup();
});

const job = (name: string, extra: Record<string, unknown> = {}) => ({ source: join(work.dir, 'disk.raw'), destination: `file://${join(work.dir, `${name}.raw`)}`, format: 'raw', ...extra });
const jobCount = async () => (await d.api('GET', '/v1/jobs')).json.jobs.length as number;

test('a wave with one bad job creates none: the error names the job by index; bad wave shapes, priorities and agents are 400s naming the field', async () => {
  const before = await jobCount();
  const cases: Array<[unknown, string, string]> = [
    [{ jobs: [job('a'), { ...job('b'), source: '/etc/hostname' }, job('c')] }, 'jobs[1].source', 'API_OUTSIDE_ROOTS'],
    [{ jobs: [job('a'), job('b'), { ...job('c'), priority: 1001 }] }, 'jobs[2].priority', 'API_BAD_REQUEST'],
    [{ jobs: [job('a'), 7] }, 'jobs[1]', 'API_BAD_REQUEST'],
    [{ jobs: [] }, 'jobs', 'API_BAD_REQUEST'],
    [{ jobs: job('a') }, 'jobs', 'API_BAD_REQUEST'],
    [{ jobs: Array.from({ length: 501 }, (_, i) => job(`n${i}`)) }, 'jobs', 'API_BAD_REQUEST'],
    [{ jobs: [job('a')], priority: 3 }, 'priority', 'API_BAD_REQUEST'],
    [job('a', { priority: 2.5 }), 'priority', 'API_BAD_REQUEST'],
    [job('a', { priority: '7' }), 'priority', 'API_BAD_REQUEST'],
    [job('a', { priority: -1001 }), 'priority', 'API_BAD_REQUEST'],
    [job('a', { agent: 'has space' }), 'agent', 'API_BAD_REQUEST'],
    [job('a', { agent: 'x'.repeat(65) }), 'agent', 'API_BAD_REQUEST'],
    // Alone on the embedded store, an affinity to another agent would wait for ever.
    [job('a', { agent: 'agent-elsewhere' }), 'agent', 'API_BAD_REQUEST'],
  ];
  for (const [body, field, code] of cases) {
    const r = await d.api('POST', '/v1/jobs', body);
    assert.equal(r.status, 400, `${field}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.error.code, code, r.text.slice(0, 300));
    assert.equal(r.json.error.field, field, r.text.slice(0, 300));
    assert.ok(r.json.error.message.startsWith(`${field}: `), r.json.error.message);
  }
  assert.equal(await jobCount(), before, 'no job of a refused wave was created');
});

test('a wave larger than one job\'s 64 KiB limit is taken whole; one job\'s body past 64 KiB is still 413', async () => {
  const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'.repeat(200)]));
  const jobs = Array.from({ length: 10 }, (_, i) => job(`meta-${i}`, { options: { metadata } }));
  assert.ok(JSON.stringify({ jobs }).length > 64 * 1024);
  const r = await d.api('POST', '/v1/jobs', { jobs });
  assert.equal(r.status, 201, r.text.slice(0, 300));
  assert.equal(r.json.jobs.length, 10);
  assert.equal(new Set(r.json.jobs.map((j: any) => j.id)).size, 10);
  for (const j of r.json.jobs) await waitForJob(d, j.id, (x) => x.state === 'completed');
  const one = await d.api('POST', '/v1/jobs', job('huge', { options: { metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(1400)])) } }));
  assert.equal(one.status, 413, one.text.slice(0, 300));
  assert.equal(one.json.error.code, 'API_BODY_TOO_LARGE');
});

test('a wave runs by priority (higher first); jobs show priority, affinity and the agent that ran them; GET /v1/agents shows this agent busy, then free', async () => {
  const blocker = await d.api('POST', '/v1/jobs', { source: join(work.dir, 'big.raw'), destination: `file://${join(work.dir, 'blocker.raw')}`, format: 'raw' });
  assert.equal(blocker.status, 201, blocker.text);
  await waitForJob(d, blocker.json.job.id, (j) => j.state === 'active');
  const wave = await d.api('POST', '/v1/jobs', { jobs: [job('low'), job('high', { priority: 10 }), job('mid', { priority: 5, agent: AGENT })] });
  assert.equal(wave.status, 201, wave.text);
  const [low, high, mid] = wave.json.jobs;
  assert.deepEqual(wave.json.jobs.map((j: any) => [j.state, j.priority, j.affinity, j.agent]), [['queued', 0, null, null], ['queued', 10, null, null], ['queued', 5, null, null]]);

  // The heartbeat (every 5 s) reports the running blocker and no free slot of one.
  const version = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
  const busy = await waitForAgent((a) => a.runningJobs === 1);
  assert.equal(busy.name, AGENT);
  assert.equal(busy.freeSlots, 0);
  assert.equal(busy.state, 'ready');
  assert.ok(busy.version.startsWith(version), busy.version);
  assert.ok(Date.now() - Date.parse(busy.lastHeartbeat) < 10_000, busy.lastHeartbeat);

  assert.equal((await d.api('POST', `/v1/jobs/${blocker.json.job.id}/cancel`)).status, 202);
  const done = [];
  for (const j of [low, high, mid]) done.push(await waitForJob(d, j.id, (x) => x.state === 'completed'));
  const order = done.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).map((j) => j.id);
  assert.deepEqual(order, [high.id, mid.id, low.id], 'max_concurrent 1: highest priority first');
  for (const j of done) assert.equal(j.agent, AGENT, 'the job names the agent that ran it');
  const listed = (await d.api('GET', '/v1/jobs')).json.jobs.find((j: any) => j.id === mid.id);
  // Alone, `agent` naming this agent is taken and records no affinity (nothing else could run the job).
  assert.deepEqual([listed.priority, listed.affinity, listed.agent], [5, null, AGENT]);
  const idle = await waitForAgent((a) => a.runningJobs === 0);
  assert.equal(idle.freeSlots, 1);
});

async function waitForAgent(until: (a: any) => boolean, ms = 15_000): Promise<any> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await d.api('GET', '/v1/agents');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.agents.length, 1, 'alone on the embedded store, an agent lists itself only');
    if (until(r.json.agents[0])) return r.json.agents[0];
    if (Date.now() > end) throw new Error(`agent not as expected after ${ms} ms: ${r.text}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
