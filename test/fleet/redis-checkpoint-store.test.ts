import { RedisCheckpointStore } from '../../agent/fleet/redis-checkpoint-store.js';
import { fleetKeys } from '../../agent/fleet/fleet-keys.js';
import { openRedis } from '../../agent/fleet/redis-connection.js';
import { checkpointStoreConformance, isTick, type Tick } from '../checkpoint/checkpoint-store-conformance.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';

checkpointStoreConformance('RedisCheckpointStore (real Redis)', async () => {
  const { url } = await ensureRedis();
  const keys = fleetKeys(redisPrefix('checkpoints'));
  const stores = [new RedisCheckpointStore<Tick>(url, keys, isTick)];
  const conn = openRedis(url, 'engine');
  return {
    store: stores[0]!,
    reopen: async () => {
      const s = new RedisCheckpointStore<Tick>(url, keys, isTick);
      stores.push(s);
      return s;
    },
    corrupt: async (id) => {
      await conn.multi().set(keys.checkpoint(id), '{"id": "bad", "par').sadd(keys.checkpoints, id).exec();
    },
    dispose: async () => {
      for (const s of stores) s.close();
      const all = await conn.keys(`${keys.prefix}:*`);
      if (all.length) await conn.del(...all);
      conn.disconnect();
    },
  };
});
