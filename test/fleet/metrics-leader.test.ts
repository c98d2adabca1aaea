import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisMetricsLeader } from '../../agent/fleet/metrics-leader.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';

const LEASE = 600;

test('one metrics leader among three at every moment; a clean stop hands over within a third of the lease, a silent death after the lease', async () => {
  const { url } = await ensureRedis();
  const prefix = redisPrefix('metrics-leader');
  const conns = [new Redis(url), new Redis(url), new Redis(url)];
  const leaders = conns.map((c) => new RedisMetricsLeader(c, prefix, LEASE));
  const connOf = new Map(leaders.map((l, i) => [l, conns[i]!]));
  let sampling = true;
  let samples = 0;
  let overlaps = 0;
  const sampler = (async () => {
    while (sampling) {
      if (leaders.filter((l) => l.held()).length > 1) overlaps++;
      samples++;
      await sleep(5);
    }
  })();
  const holder = async (not?: RedisMetricsLeader) => {
    const end = Date.now() + 3 * LEASE;
    for (;;) {
      const held = leaders.filter((l) => l.held());
      if (held.length === 1 && held[0] !== not) return held[0]!;
      if (Date.now() > end) throw new Error(`${held.length} leaders after ${3 * LEASE} ms`);
      await sleep(10);
    }
  };
  try {
    const first = await holder();
    await sleep(2 * LEASE);
    assert.equal(await holder(), first, 'the holder renews its lease; nobody takes it meanwhile');

    let t0 = Date.now();
    await first.stop();
    leaders.splice(leaders.indexOf(first), 1);
    const second = await holder();
    assert.ok(Date.now() - t0 < LEASE, `a released lease is taken at the next try (${Date.now() - t0} ms)`);

    // A holder whose connection dies stops counting itself leader; the key expires and another takes it.
    t0 = Date.now();
    connOf.get(second)!.disconnect();
    await holder(second);
    assert.ok(Date.now() - t0 >= LEASE / 3, `the silent holder's lease ran out before the takeover (${Date.now() - t0} ms)`);
    assert.equal(overlaps, 0, `two leaders at once in ${overlaps} of ${samples} samples`);
  } finally {
    sampling = false;
    await sampler;
    await Promise.all(leaders.map((l) => l.stop()));
    const admin = new Redis(url);
    await admin.del(`${prefix}:metrics-leader`);
    await admin.quit();
  }
});
