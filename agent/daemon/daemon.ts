import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { isVmxferError } from '../core/errors.js';
import type { AgentConfig } from '../config/schema.js';
import { LiveProgress } from '../jobs/live-progress.js';
import { JobViews } from '../jobs/job-views.js';
import { JobTally } from '../jobs/job-tally.js';
import { sharedTokenBucket } from '../sinks/token-bucket.js';
import { WorkerPool } from '../pipeline/worker-pool.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { JobService } from '../jobs/job-service.js';
import type { RunContext } from '../jobs/run-context.js';
import { openFleetSemaphore } from '../fleet/fleet-semaphore-factory.js';
import { Feed } from '../api/feed.js';
import { createApiServer, listen } from '../api/api-server.js';
import { loadMetricsToken, loadToken } from '../api/auth.js';
import type { ApiState } from '../api/routes.js';
import { openFleetPresence, type FleetPresence } from '../fleet/fleet-presence.js';
import { startHeartbeat } from '../fleet/agent-heartbeat.js';
import { agentVersion } from '../cli/version.js';
import { createLogger } from './logger.js';
import { lockStateDir } from './state-dir-lock.js';
import { changedKeys, RESTART_KEYS } from './config-diff.js';
import { openDaemonStores, type DaemonStores } from './open-stores.js';
import { defaultOutputRoot, loadDaemonConfig, workerThreads, type DaemonConfigSource } from './daemon-config.js';

/** SIGTERM to exit: running jobs get this long to reach a checkpoint, the rest of 10 s is for closing. */
const JOB_STOP_MS = 7000;
const HARD_EXIT_MS = 9500;

/**
 * The agent as a service: loads the configuration, the job store and the token, serves the API, then
 * runs until `stop` aborts (SIGTERM/SIGINT). SIGHUP reloads the configuration.
 */
export async function runDaemon(src: DaemonConfigSource, stop: AbortSignal): Promise<number> {
  let config = await loadDaemonConfig(src);
  const log = createLogger(config.logging.level);
  await mkdir(config.state_dir, { recursive: true, mode: 0o700 });
  const lock = await lockStateDir(config.state_dir);
  await mkdir(defaultOutputRoot(config.state_dir), { recursive: true, mode: 0o700 });
  let { token, origin } = await loadToken(config, src.env, config.state_dir);
  let metricsToken = await loadMetricsToken(config, src.env, token);
  // The name the fleet knows this agent by, for its whole run (claims, heartbeats, metrics, affinity).
  const agentName = config.agent.name;
  const metrics = new AgentMetrics(agentName);
  const pool = new WorkerPool(workerThreads(config));
  const stores = await openDaemonStores(config, metrics);
  const fleet = await openFleetPresence(config);
  const store = stores.jobs;
  let ctx: RunContext = {
    config,
    checkpoints: stores.checkpoints,
    ebsCheckpoints: stores.ebsCheckpoints,
    metrics,
    bandwidth: sharedTokenBucket(config.transfer.bwlimit || undefined),
    agentName,
    pool,
    semaphore: await openFleetSemaphore(config.job_store),
  };
  const live = new LiveProgress();
  const service = new JobService(store, live, ctx, log);
  const views = new JobViews(store, live);
  const tally = await JobTally.follow(store);
  let phase: ReturnType<ApiState['phase']> = 'starting';
  const feed = new Feed(views, () => token, metrics, log, fleet.directory);
  metrics.setSources({
    exportsFleet: () => fleet.metricsLeader.held(),
    jobsByState: () => tally.counts(),
    remainingBytes: () => live.remainingBytes(),
    pool: () => ({ utilisation: pool.utilisation(), queueDepth: pool.queueDepth }),
    feed: () => feed.stats(),
    cloudTasks: () => tally.cloudTasks(),
  });
  const state: ApiState = { service, views, metrics, token: () => token, metricsToken: () => metricsToken, sourceRoots: () => config.source_roots, outputRoots: () => config.output_roots, phase: () => phase,
    storeReachable: () => stores.reachable(), submitAgent: () => ({ name: agentName, fleet: fleet.directory.fleet }), agents: fleet.directory,
  };
  const server = await createApiServer(config, state, feed, log);
  const addr = await listen(server, config.listen.host, config.listen.port);
  const scheme = config.listen.tls_cert ? 'https' : 'http';
  log.info({ url: `${scheme}://${addr.host}:${addr.port}`, agent: agentName, jobStore: stores.where, stateDir: config.state_dir, tokenFrom: origin, sourceRoots: config.source_roots, outputRoots: config.output_roots }, 'listening');
  const version = agentVersion();
  const heartbeat = startHeartbeat(fleet.directory, () => {
    const running = live.runningCount;
    const state = phase === 'stopping' ? 'stopping' : phase === 'ready' ? 'ready' : 'starting';
    return { name: agentName, version, runningJobs: running, freeSlots: Math.max(0, config.jobs.max_concurrent - running), state };
  }, log);
  await service.start();
  phase = 'ready';
  await heartbeat.beatNow();
  log.info({ agent: agentName }, 'ready');

  const reload = async () => {
    try {
      const next = await loadDaemonConfig(src);
      const changed = changedKeys(config, next);
      const needRestart = changed.filter((k) => RESTART_KEYS.includes(k));
      for (const k of RESTART_KEYS) setPath(next, k, getPath(config, k));
      const loaded = await loadToken(next, src.env, config.state_dir);
      const nextMetricsToken = await loadMetricsToken(next, src.env, loaded.token);
      ({ token, origin } = loaded);
      metricsToken = nextMetricsToken;
      log.level = next.logging.level;
      config = next;
      ctx = { ...ctx, config, agentName: config.agent.name, bandwidth: sharedTokenBucket(config.transfer.bwlimit || undefined) };
      service.reconfigure(ctx);
      log.info({ changed, needRestart, tokenFrom: origin }, needRestart.length ? 'configuration reloaded; some keys need a restart' : 'configuration reloaded');
    } catch (err) {
      log.error({ code: isVmxferError(err) ? err.code : undefined, err: (err as Error).message }, 'configuration reload refused; keeping the running configuration');
    }
  };
  const onHup = () => void reload();
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
  process.off('SIGHUP', onHup);
  const code = await shutdown(log, () => (phase = 'stopping'), service, stores, feed, server, pool, { fleet, heartbeat });
  await ctx.semaphore?.close();
  await lock.release();
  return code;
}

async function shutdown(log: Logger, markStopping: () => void, service: JobService, stores: DaemonStores, feed: Feed, server: Server, pool: WorkerPool, presence: { fleet: FleetPresence; heartbeat: { stop(): Promise<void> } }): Promise<number> {
  const t0 = performance.now();
  markStopping();
  log.info('stopping: no new jobs; checkpointing running ones');
  setTimeout(() => {
    log.error('jobs did not stop in time; exiting anyway');
    process.exit(1);
  }, HARD_EXIT_MS).unref();
  await service.shutdown(JOB_STOP_MS);
  await presence.heartbeat.stop();
  await presence.fleet.close();
  await stores.close();
  feed.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.destroy();
  log.info({ seconds: Number(((performance.now() - t0) / 1000).toFixed(3)) }, 'stopped');
  return 0;
}

function getPath(c: AgentConfig, path: string): unknown {
  return path.split('.').reduce<any>((node, k) => node?.[k], c);
}

function setPath(c: AgentConfig, path: string, value: unknown): void {
  const keys = path.split('.');
  const parent = keys.slice(0, -1).reduce<any>((node, k) => node[k], c);
  parent[keys[keys.length - 1]!] = value;
}
