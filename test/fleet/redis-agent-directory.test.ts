import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { openRedis } from '../../agent/fleet/redis-connection.js';
import { RedisAgentDirectory } from '../../agent/fleet/redis-agent-directory.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { agentDirectoryConformance } from './agent-directory-conformance.js';

// A real Redis (scripts/redis); each scope is a key prefix, so directories of one scope share their keys.
agentDirectoryConformance('redis', async () => {
  const { url } = await ensureRedis();
  const base = redisPrefix('agents');
  const opened: RedisAgentDirectory[] = [];
  return {
    open: async (scope) => {
      const dir = new RedisAgentDirectory(new Redis(url), `${base}-${scope}`);
      opened.push(dir);
      return dir;
    },
    dispose: async () => {
      await Promise.all(opened.map((d) => d.close()));
      const admin = new Redis(url);
      const keys = await admin.keys(`${base}-*`);
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    },
  };
});

test('a directory whose server is away fails every call at once with FLEET_STORE_UNREACHABLE (GET /v1/agents answers 503)', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  const url = `redis://127.0.0.1:${port}`;
  const dir = new RedisAgentDirectory(openRedis(url, 'commands'), redisPrefix('agents-away'), url);
  try {
    const t0 = Date.now();
    for (const call of [() => dir.list(), () => dir.heartbeat({ name: 'a', version: 'v', runningJobs: 0, freeSlots: 1, state: 'ready' }), () => dir.leave('a')]) {
      await assert.rejects(call(), (e: { code?: string; category?: string }) => e.code === 'FLEET_STORE_UNREACHABLE' && e.category === 'io');
    }
    assert.ok(Date.now() - t0 < 2000, 'no call waits for the server');
  } finally {
    await dir.close();
  }
});
