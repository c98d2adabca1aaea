import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { privateRedis, redisPrefix } from '../helpers/redis.js';
import { ensureRgw } from '../helpers/rgw.js';
import { readRgwLog } from '../helpers/rgw-request-log.js';
import { pendingUploads } from '../helpers/s3-object.js';
import { assertObjectIsImage, completions, creations, imageDir, makeQcow2Image, readyz, rgwRequestsFor, startFleet, type Fleet } from '../helpers/fleet.js';

/**
 * Issue #15 point 7 (e): the engine's server restarted mid-run. Three agents on a Redis of the test's
 * own; while six uploads run, Redis stops (keeping its append-only file) and comes back on the same port.
 */
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch((err) => process.stderr.write(`# cleanup: ${(err as Error).message}\n`));
});

async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(100);
  }
  return (performance.now() - t0) / 1000;
}

test('(e) Redis restarted mid-run: /readyz is 503 while it is down, agents reconnect, every job completes once', { timeout: 300_000 }, async () => {
  const rgw = await ensureRgw();
  const redis = await privateRedis('fleet-restart');
  cleanup.push(() => redis.stop());
  const fleet: Fleet = await startFleet({
    count: 3,
    redisUrl: redis.url,
    prefix: redisPrefix('restart'),
    leaseSeconds: 5,
    rgw,
    label: 'restart',
    transfer: { part_size: '5MiB', concurrency: 2, bwlimit: '4MiB' },
    jobs: { max_concurrent: 1, per_destination: 8 },
  });
  cleanup.push(() => fleet.close());
  const dir = await imageDir(fleet, 'restart');
  const images = await Promise.all(Array.from({ length: 6 }, (_, i) => makeQcow2Image(dir, `vm${i}`, 20)));
  const from = (await readRgwLog(rgw.stateDir)).length;
  const ids: string[] = [];
  for (const [i, image] of images.entries()) ids.push(await fleet.submit(fleet.agents[0]!, { source: image.path, destination: `s3://${fleet.bucket.name}/restart/vm${i}.raw`, format: 'raw' }));
  // One upload per agent (max_concurrent 1) with a part done before the store goes away.
  await Promise.all(ids.slice(0, 3).map((id) => fleet.waitUploading(id, 1)));

  await redis.stop(true);
  const notReady = await until('every agent not ready', async () => (await Promise.all(fleet.agents.map(readyz))).every((s) => s === 503), 30_000);
  await sleep(3000);
  assert.deepEqual(await Promise.all(fleet.agents.map(readyz)), [503, 503, 503], 'not ready while the store is unreachable');
  await redis.restart();
  const ready = await until('every agent ready again', async () => (await Promise.all(fleet.agents.map(readyz))).every((s) => s === 200), 60_000);

  const jobs = await fleet.waitFinished(ids, 180_000);
  assert.deepEqual(jobs.filter((j) => j.state !== 'completed').map((j) => [j.id, j.state, j.error]), []);
  for (const [i, image] of images.entries()) {
    const key = `restart/vm${i}.raw`;
    await assertObjectIsImage(fleet.bucket, key, image);
    const entries = await rgwRequestsFor(rgw, fleet.bucket.name, key, from);
    assert.deepEqual(completions(entries).map((c) => c.status), [200], `${key}: completed once`);
    assert.equal(creations(entries).length, 1, `${key}: one multipart upload, not a second run`);
    assert.equal(await pendingUploads(fleet.bucket.client, fleet.bucket.name, key), 0);
  }
  process.stdout.write(`# (e) agents not ready ${notReady.toFixed(2)} s after Redis stopped, ready ${ready.toFixed(2)} s after it came back; jobs per agent ${JSON.stringify(jobs.map((j) => j.agent))}\n`);
});
