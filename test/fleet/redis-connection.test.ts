import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isConnectionError, openRedis, parseRedisUrl, reconnectDelay, redactUrl, unreachable, whenReady } from '../../agent/fleet/redis-connection.js';
import { privateRedis } from '../helpers/redis.js';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

test('job_store.url: redis:// and rediss:// only; the password never shows in messages', () => {
  assert.equal(parseRedisUrl('redis://127.0.0.1:6379').port, '6379');
  assert.throws(() => parseRedisUrl('postgres://x/y'), (e: { code?: string }) => e.code === 'FLEET_STORE_URL');
  assert.throws(() => parseRedisUrl('not a url'), (e: { code?: string }) => e.code === 'FLEET_STORE_URL');
  for (const bad of ['postgres://user:s3cret@db/x', 'redis://user:s3cret@[bad']) {
    assert.throws(() => parseRedisUrl(bad), (e: Error & { code?: string }) => e.code === 'FLEET_STORE_URL' && !e.message.includes('s3cret'), `${bad}: the password stays out of the message`);
  }
  assert.doesNotMatch(redactUrl('redis://:s3cret@h:1/0'), /s3cret/);
  assert.deepEqual([1, 2, 3, 7, 50].map(reconnectDelay), [100, 200, 400, 5000, 5000]);
});

test('an unreachable store: commands fail at once with FLEET_STORE_UNREACHABLE (io), and whenReady times out with it', async () => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const conn = openRedis(url, 'commands');
  try {
    const err = await conn.get('k').then(() => undefined, (e: unknown) => unreachable(e, url, 'reading k'));
    assert.equal((err as { code?: string }).code, 'FLEET_STORE_UNREACHABLE');
    assert.equal((err as { category?: string }).category, 'io');
    await assert.rejects(whenReady(conn, url, 300), (e: { code?: string }) => e.code === 'FLEET_STORE_UNREACHABLE');
    assert.equal(isConnectionError(new Error('ERR wrong number of arguments')), false, 'a server answer is no connection failure');
  } finally {
    conn.disconnect();
  }
});

test('real Redis stopped and restarted on its port: every role reconnects by itself; the engine role waits instead of failing', async () => {
  const redis = await privateRedis('conn');
  const commands = openRedis(redis.url, 'commands');
  const engine = openRedis(redis.url, 'engine');
  try {
    await whenReady(commands, redis.url, 5000);
    await commands.set('k', 'v1');
    await redis.stop(true);
    await assert.rejects(commands.get('k'), (e: unknown) => isConnectionError(e));
    const waiting = engine.get('k');
    await redis.restart();
    assert.equal(await waiting, 'v1', 'the queued engine command ran once the server was back (append-only data kept)');
    await whenReady(commands, redis.url, 10_000);
    assert.equal(await commands.get('k'), 'v1');
  } finally {
    commands.disconnect();
    engine.disconnect();
    await redis.stop();
  }
});
