import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after } from 'node:test';
import { RedisFleetSemaphore } from '../../agent/fleet/fleet-semaphore-redis.js';
import { collectOutput } from '../helpers/run-command.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';
import { semaphoreConformance, type Hold } from './fleet-semaphore-conformance.js';

const redis = await ensureRedis();
const prefix = redisPrefix('semaphore');
const WORKER = join(import.meta.dirname, 'semaphore-worker.js');
const opened: RedisFleetSemaphore[] = [];
after(() => Promise.all(opened.map((s) => s.close())));

function worker(args: object) {
  return spawn(process.execPath, [WORKER, JSON.stringify({ url: redis.url, prefix, ...args })], { stdio: ['ignore', 'pipe', 'pipe'] });
}

semaphoreConformance({
  name: 'Redis',
  async open(leaseMs) {
    const s = RedisFleetSemaphore.open(redis.url, { prefix, leaseMs });
    opened.push(s);
    return s;
  },
  async inProcesses(p) {
    const per = Array.from({ length: p.processes }, (_, i) => Math.floor(p.acquirers / p.processes) + (i < p.acquirers % p.processes ? 1 : 0));
    const runs = per.map((acquirers) => collectOutput(worker({ key: p.key, limit: p.limit, leaseMs: 5000, mode: 'cycle', acquirers, rounds: p.rounds, holdMs: p.holdMs })));
    const results = await Promise.all(runs);
    for (const r of results) if (r.code !== 0) throw new Error(`a semaphore worker exited ${r.code}: ${r.stderr}`);
    return results.flatMap((r) => r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Hold));
  },
  async deadHolder(key, limit, leaseMs) {
    const child = worker({ key, limit, leaseMs, mode: 'hold' });
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('held') && resolve());
      child.on('exit', (code) => reject(new Error(`the holder exited ${code} before holding`)));
    });
    return { kill: () => child.kill('SIGKILL') };
  },
});
