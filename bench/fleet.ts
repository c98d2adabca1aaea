/**
 * A fleet on one engine (issue #15 point 8): 1, 2 and 3 agent processes (bin/vmxfer.js daemon) on a
 * loopback Redis of the bench's own and the loopback RGW run 30 small upload jobs (2 MiB qcow2 images
 * converted to raw objects), all submitted to the first agent. Per run: jobs per minute (first submit to
 * last completion), CPU-seconds per job of the Redis server (/proc/<pid>/stat of its pid) and of the
 * agents (the sum over their processes), and, with 2 and 3 agents, the time from a kill -9 of the agent
 * running a (bandwidth-limited) upload to another agent taking it, and the Redis CPU over 10 s with the
 * agents idle (lock renewals, stalled checks). An embedded-store run (one agent, no
 * job_store.url) is the anchor: the agent CPU per job above it is what the store's client side costs
 * (ioredis, BullMQ, records over the network instead of a file). Prints JSON lines and a table.
 * Run: npx tsc -p . && node dist/bench/fleet.js   (BENCH_FLEET_LEASE=5 the lease in seconds)
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeQcow2Image, startFleet, type Fleet } from '../test/helpers/fleet.js';
import { privateRedis, redisPrefix } from '../test/helpers/redis.js';
import { ensureRgw, type RgwEnv } from '../test/helpers/rgw.js';
import { tempDir } from '../test/helpers/tmp.js';
import { join } from 'node:path';

const JOBS = 30;
const IMAGE_MIB = 2;
const LEASE = Number(process.env.BENCH_FLEET_LEASE ?? 5);
const TICK = 100; // USER_HZ on Linux

interface Row {
  store: 'embedded' | 'redis';
  agents: number;
  wallSec: number;
  jobsPerMin: number;
  agentCpuPerJob: number;
  redisCpuPerJob: number | null;
  perAgent: Record<string, number>;
  /** Redis CPU while the agents are idle (lock renewals and stalled checks only), percent of one core. */
  redisIdlePct: number | null;
  takeoverSec: number | null;
}

const IDLE_SECONDS = 10;

/** utime + stime of a process, all its threads, in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

async function run(rgw: RgwEnv, sources: string, images: string[], agents: number, redis: { url: string; pid: number } | null): Promise<Row> {
  const fleet = await startFleet({
    count: agents,
    redisUrl: redis?.url ?? '',
    prefix: redisPrefix('bench'),
    leaseSeconds: LEASE,
    rgw,
    label: `bench-fleet-${agents}`,
    sources,
    transfer: { part_size: '5MiB', concurrency: 4 },
    jobs: { max_concurrent: 4, per_destination: 12 },
  });
  try {
    await sleep(1000);
    const cpu0 = await Promise.all(fleet.agents.map((a) => cpuSeconds(a.pid)));
    const redis0 = redis ? await cpuSeconds(redis.pid) : 0;
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      ids.push(await fleet.submit(fleet.agents[0]!, { source: images[i % images.length], destination: `s3://${fleet.bucket.name}/bench/${i}.raw`, format: 'raw' }));
    }
    const jobs = await fleet.waitFinished(ids, 600_000);
    const wallSec = (performance.now() - t0) / 1000;
    const cpu1 = await Promise.all(fleet.agents.map((a) => cpuSeconds(a.pid)));
    const redis1 = redis ? await cpuSeconds(redis.pid) : 0;
    const failed = jobs.filter((j) => j.state !== 'completed');
    if (failed.length) throw new Error(`${failed.length} jobs did not complete: ${JSON.stringify(failed.map((j) => j.error))}`);
    const perAgent: Record<string, number> = {};
    for (const j of jobs) perAgent[j.agent ?? fleet.agents[0]!.name] = (perAgent[j.agent ?? fleet.agents[0]!.name] ?? 0) + 1;
    const agentCpu = cpu1.reduce((s, c, i) => s + c - cpu0[i]!, 0);
    let redisIdlePct: number | null = null;
    if (redis) {
      const idle0 = await cpuSeconds(redis.pid);
      await sleep(IDLE_SECONDS * 1000);
      redisIdlePct = +((100 * ((await cpuSeconds(redis.pid)) - idle0)) / IDLE_SECONDS).toFixed(2);
    }
    const takeoverSec = redis && agents > 1 ? await takeover(fleet, sources) : null;
    return {
      store: redis ? 'redis' : 'embedded',
      agents,
      wallSec: +wallSec.toFixed(2),
      jobsPerMin: +((JOBS / wallSec) * 60).toFixed(1),
      agentCpuPerJob: +(agentCpu / JOBS).toFixed(3),
      redisCpuPerJob: redis ? +((redis1 - redis0) / JOBS).toFixed(4) : null,
      perAgent,
      redisIdlePct,
      takeoverSec,
    };
  } finally {
    await fleet.close();
  }
}

/** Slows every agent (bwlimit by SIGHUP), kills the one running a 40 MiB upload once a part is done, times the takeover. */
async function takeover(fleet: Fleet, sources: string): Promise<number> {
  for (const a of fleet.agents) {
    const config = JSON.parse(await readFile(a.configFile, 'utf8'));
    await writeFile(a.configFile, JSON.stringify({ ...config, transfer: { ...config.transfer, bwlimit: '4MiB' } }));
    process.kill(a.pid, 'SIGHUP');
  }
  await sleep(1000);
  const image = await makeQcow2Image(sources, `long-${fleet.agents.length}`, 40);
  const id = await fleet.submit(fleet.agents[0]!, { source: image.path, destination: `s3://${fleet.bucket.name}/bench/long.raw`, format: 'raw' });
  const running = await fleet.waitJob(id, (j) => j.state === 'active' && j.progress.partsDone >= 1, 120_000);
  const victim = fleet.byName(running.agent);
  await victim.kill();
  const t0 = performance.now();
  await fleet.waitJob(id, (j) => j.agent !== victim.name && ['validating', 'active'].includes(j.state), 10 * LEASE * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const done = await fleet.waitJob(id, (j) => ['completed', 'failed'].includes(j.state), 120_000);
  if (done.state !== 'completed') throw new Error(`the taken-over job ended ${done.state}: ${JSON.stringify(done.error)}`);
  return +seconds.toFixed(2);
}

async function main(): Promise<void> {
  const rgw = await ensureRgw();
  const redis = await privateRedis('bench-fleet');
  const pid = Number((await readFile(join(redis.stateDir, 'redis.pid'), 'utf8')).trim());
  const work = await tempDir('vmxfer-bench-fleet-');
  const rows: Row[] = [];
  try {
    const images = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await makeQcow2Image(work.dir, `small${i}`, IMAGE_MIB)).path));
    rows.push(await run(rgw, work.dir, images, 1, null));
    process.stdout.write(`${JSON.stringify(rows.at(-1))}\n`);
    for (const n of [1, 2, 3]) {
      rows.push(await run(rgw, work.dir, images, n, { url: redis.url, pid }));
      process.stdout.write(`${JSON.stringify(rows.at(-1))}\n`);
    }
  } finally {
    await redis.stop();
    await rm(redis.stateDir, { recursive: true, force: true });
    await work.cleanup();
  }
  const anchor = rows[0]!.agentCpuPerJob;
  process.stdout.write(`\n${JOBS} jobs of ${IMAGE_MIB} MiB (qcow2 -> raw), lease ${LEASE} s, load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]}\n`);
  process.stdout.write('| store | agents | wall s | jobs/min | agent CPU s/job | over embedded | Redis CPU s/job | Redis idle % | jobs per agent | kill -> takeover s |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n');
  for (const r of rows) {
    process.stdout.write(
      `| ${r.store} | ${r.agents} | ${r.wallSec} | ${r.jobsPerMin} | ${r.agentCpuPerJob} | ${r.store === 'redis' ? (r.agentCpuPerJob - anchor).toFixed(3) : '-'} | ${r.redisCpuPerJob ?? '-'} | ${r.redisIdlePct ?? '-'} | ${Object.values(r.perAgent).join(' / ')} | ${r.takeoverSec ?? '-'} |\n`,
    );
  }
}

await main();
