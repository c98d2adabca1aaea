import { Redis } from 'ioredis';
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
