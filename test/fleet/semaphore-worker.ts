/**
 * A separate process holding slots of one Redis fleet semaphore, for the conformance suite: `cycle` runs
 * `acquirers` concurrent loops of acquire, hold, release and prints each hold as a JSON line
 * {start, end} (wall-clock ms, taken inside the lease); `hold` takes one slot, prints "held" and never
 * releases it (the suite kills it with SIGKILL).
 */
import { RedisFleetSemaphore } from '../../agent/fleet/fleet-semaphore-redis.js';

interface WorkerArgs {
  url: string;
  prefix: string;
  key: string;
  limit: number;
  leaseMs: number;
  mode: 'cycle' | 'hold';
  acquirers?: number;
  rounds?: number;
  holdMs?: number;
}

const args = JSON.parse(process.argv[2]!) as WorkerArgs;
const sem = RedisFleetSemaphore.open(args.url, { prefix: args.prefix, leaseMs: args.leaseMs });

async function cycle(n: number): Promise<void> {
  for (let r = 0; r < args.rounds!; r++) {
    const lease = await sem.acquire(args.key, args.limit, `worker-${process.pid}-${n}`);
    const start = Date.now();
    await new Promise((res) => setTimeout(res, args.holdMs! * (0.5 + Math.random())));
    const end = Date.now();
    await lease.release();
    process.stdout.write(`${JSON.stringify({ start, end })}\n`);
  }
}

if (args.mode === 'hold') {
  await sem.acquire(args.key, args.limit, `holder-${process.pid}`);
  process.stdout.write('held\n');
  setInterval(() => undefined, 60_000);
} else {
  await Promise.all(Array.from({ length: args.acquirers! }, (_, i) => cycle(i)));
  await sem.close();
}
