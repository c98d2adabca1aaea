import type { AgentConfig } from '../config/schema.js';
import type { AgentDirectory } from './agent-directory.js';
import { LocalAgentDirectory } from './local-agent-directory.js';
import { ALONE, type MetricsLeader } from './metrics-leader.js';

/** How this agent shows itself to the fleet: its directory and whether it exports the fleet-wide gauges. */
export interface FleetPresence {
  directory: AgentDirectory;
  metricsLeader: MetricsLeader;
  close(): Promise<void>;
}

/**
 * From the job store's configuration, as the daemon's job store is chosen: no `job_store.url`, the
 * embedded store and an agent alone; a Redis URL, the fleet's directory and metrics lease under
 * `job_store.prefix` (the directory on a commands connection, the lease on one of its own for WATCH).
 */
export async function openFleetPresence(config: Pick<AgentConfig, 'job_store' | 'agent'>): Promise<FleetPresence> {
  const { url, prefix } = config.job_store;
  if (!url) {
    const directory = new LocalAgentDirectory();
    return { directory, metricsLeader: ALONE, close: () => directory.close() };
  }
  const [{ RedisAgentDirectory }, { RedisMetricsLeader }, { openRedis }] = await Promise.all([
    import('./redis-agent-directory.js'), import('./metrics-leader.js'), import('./redis-connection.js'),
  ]);
  const directory = new RedisAgentDirectory(openRedis(url, 'commands', `${config.agent.name}:agents`), prefix, url);
  const metricsLeader = new RedisMetricsLeader(openRedis(url, 'commands', `${config.agent.name}:metrics-leader`), prefix);
  return {
    directory,
    metricsLeader,
    close: async () => {
      await metricsLeader.stop();
      await directory.close();
    },
  };
}
