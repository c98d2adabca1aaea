import { RedisJobStore } from '../../agent/fleet/redis-job-store.js';
import { newRecord } from '../jobs/job-record-fixture.js';

/**
 * Child of the kill -9 test on the shared store: creates jobs in the RedisJobStore at argv[2] with key
 * prefix argv[3] and moves each to version 2, printing `<id> <version>` once each write has resolved
 * (so Redis executed it), until it is killed.
 */
const store = await RedisJobStore.open({ url: process.argv[2]!, prefix: process.argv[3]!, leaseMs: 60_000 });
for (;;) {
  const rec = await store.create(newRecord());
  process.stdout.write(`${rec.id} ${rec.version}\n`);
  const next = await store.update(rec.id, rec.version, { ...rec, progress: { ...rec.progress, bytesRead: 1 } });
  process.stdout.write(`${next.id} ${next.version}\n`);
}
