import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { promtool } from '../helpers/promtool.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue #15 points 2 and 5 through two real daemons on one Redis (scripts/redis): GET /v1/agents from
 * either lists both, a killed agent turns `lost`; a job reading a root that is not shared gets the
 * submitting agent as affinity; per-agent metrics carry `agent`, and only one agent exports the
 * fleet-wide gauges, another once it is gone.
 */
test('two agents on one Redis: each lists both, kill -9 makes one lost; local roots give affinity, shared ones none; fleet gauges exported once', async () => {
  const { url } = await ensureRedis();
  const prefix = redisPrefix('fleet-view');
  const work = await tempDir('vmxfer-fleet-view-');
  const local = join(work.dir, 'local');
  const shared = join(work.dir, 'datastore');
  const out = join(work.dir, 'out');
  await Promise.all([mkdir(local), mkdir(shared), mkdir(out)]);
  await writeFile(join(local, 'a.raw'), randomBytes(64 * 1024));
  await writeFile(join(shared, 'b.raw'), randomBytes(64 * 1024));
  const start = (name: string) =>
    startDaemon({
      sourceRoots: [],
      outputRoots: [out],
      config: { agent: { name }, job_store: { url, prefix }, source_roots: [local, { path: shared, shared: true }] },
    });
  const daemons: TestDaemon[] = [];
  try {
    const a = await start('fleet-a');
    daemons.push(a);
    const b = await start('fleet-b');
    daemons.push(b);

    for (const d of [a, b]) {
      const agents = await waitAgents(d, (xs) => xs.length === 2 && xs.every((x) => x.state === 'ready'));
      assert.deepEqual(agents.map((x) => x.name), ['fleet-a', 'fleet-b']);
      for (const x of agents) assert.equal(x.freeSlots, 4, 'jobs.max_concurrent 4, nothing running');
    }

    const submit = (source: string, extra: Record<string, unknown> = {}) =>
      a.api('POST', '/v1/jobs', { source, destination: `file://${join(out, `${randomBytes(3).toString('hex')}.raw`)}`, format: 'raw', ...extra });
    const pinned = await submit(join(local, 'a.raw'));
    assert.equal(pinned.status, 201, pinned.text);
    assert.equal(pinned.json.job.affinity, 'fleet-a', 'a source on a root that is not shared waits for the agent that took the submit');
    const free = await submit(join(shared, 'b.raw'));
    assert.equal(free.json.job.affinity, null, 'a source on a shared root may run on any agent');
    const chosen = await submit(join(shared, 'b.raw'), { agent: 'fleet-b', priority: 7 });
    assert.deepEqual([chosen.json.job.affinity, chosen.json.job.priority], ['fleet-b', 7], '`agent` in the body is the affinity');
    const wave = await a.api('POST', '/v1/jobs', { jobs: [{ source: join(local, 'a.raw'), destination: `file://${join(out, 'w1.raw')}` }, { source: join(shared, 'b.raw'), destination: `file://${join(out, 'w2.raw')}` }] });
    assert.deepEqual(wave.json.jobs.map((j: { affinity: string | null }) => j.affinity), ['fleet-a', null]);
    const waiting = await submit(join(shared, 'b.raw'), { agent: 'fleet-c' });
    assert.equal(waiting.status, 201, waiting.text);

    // Each job ran where its affinity says (GET through A reads the shared store); one for an agent that is not there waits.
    const ran = async (id: string) => (await waitForJob(a, id, (j) => j.state === 'completed' || j.state === 'failed', 30_000)) as { state: string; agent: string };
    for (const [id, where] of [[pinned.json.job.id, 'fleet-a'], [chosen.json.job.id, 'fleet-b'], [wave.json.jobs[0].id, 'fleet-a']] as const) {
      const job = await ran(id);
      assert.deepEqual([job.state, job.agent], ['completed', where], id);
    }
    assert.ok(['fleet-a', 'fleet-b'].includes((await ran(free.json.job.id)).agent));
    assert.equal((await a.api('GET', `/v1/jobs/${waiting.json.job.id}`)).json.job.state, 'queued', 'a job for an absent agent waits for it');

    // One exporter of the fleet-wide gauges; every per-agent series names its agent; both expositions lint clean.
    const leaderOf = async () => {
      const texts = await Promise.all([a, b].map(async (d) => (await d.api('GET', '/metrics')).text));
      return { texts, exporters: texts.map((t, i) => (/^# TYPE vmxfer_jobs gauge$/m.test(t) ? i : -1)).filter((i) => i >= 0) };
    };
    const first = await until(leaderOf, (r) => r.exporters.length === 1, 10_000);
    for (const [i, name] of ['fleet-a', 'fleet-b'].entries()) {
      const text = first.texts[i]!;
      assert.match(text, new RegExp(`^vmxfer_feed_clients\\{agent="${name}"\\} 0$`, 'm'));
      assert.match(text, new RegExp(`^process_resident_memory_bytes\\{agent="${name}"\\} \\d+`, 'm'));
      const unlabelled = text.split('\n').filter((l) => l && !l.startsWith('#') && !/^vmxfer_(jobs|cloud_tasks)\{/.test(l) && !l.includes(`agent="${name}"`));
      assert.deepEqual(unlabelled, [], 'every per-agent sample carries agent');
      const lint = await promtool(text);
      assert.equal(lint.code, 0, lint.output);
    }
    assert.ok(!/^vmxfer_jobs\{[^}]*agent=/m.test(first.texts[first.exporters[0]!]!), 'fleet-wide gauges carry no agent');

    // The exporter dies without a word: the other agent lists it lost and takes over the gauges.
    const leader = first.exporters[0]!;
    const [dead, alive] = leader === 0 ? [a, b] : [b, a];
    const t0 = Date.now();
    await dead.kill();
    daemons.splice(daemons.indexOf(dead), 1);
    const lost = await waitAgents(alive, (xs) => xs.some((x) => x.state === 'lost'), 30_000);
    assert.deepEqual(lost.map((x) => x.state).sort(), ['lost', 'ready']);
    const lostAfter = Date.now() - t0;
    await until(async () => (await alive.api('GET', '/metrics')).text, (t) => /^# TYPE vmxfer_jobs gauge$/m.test(t), 30_000);
    process.stdout.write(`# killed agent lost after ${(lostAfter / 1000).toFixed(1)} s; gauges taken over after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await Promise.all(daemons.map((d) => rm(d.stateDir, { recursive: true, force: true })));
    await work.cleanup();
  }
});

interface Agent { name: string; state: string; freeSlots: number }

async function waitAgents(d: TestDaemon, ok: (xs: Agent[]) => boolean, ms = 15_000): Promise<Agent[]> {
  return until(async () => {
    const r = await d.api('GET', '/v1/agents');
    assert.equal(r.status, 200, r.text);
    return r.json.agents as Agent[];
  }, ok, ms);
}

async function until<T>(read: () => Promise<T>, ok: (x: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const x = await read();
    if (ok(x)) return x;
    if (Date.now() > end) throw new Error(`not reached in ${ms} ms: ${JSON.stringify(x).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
