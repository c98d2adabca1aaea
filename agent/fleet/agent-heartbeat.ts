import type { Logger } from 'pino';
import { HEARTBEAT_MS, HEARTBEAT_TTL_MS, type AgentBeat, type AgentDirectory } from './agent-directory.js';

/**
 * Beats into the directory every `everyMs` (and once at once); a failed beat is logged and the next one
 * tries again, so a store that is down for less than the TTL costs the agent nothing. stop() leaves.
 */
export function startHeartbeat(dir: AgentDirectory, beat: () => AgentBeat, log: Logger, everyMs = HEARTBEAT_MS): { stop(): Promise<void>; beatNow(): Promise<void> } {
  const ttlMs = everyMs === HEARTBEAT_MS ? HEARTBEAT_TTL_MS : 3 * everyMs;
  let failing = false;
  let inFlight: Promise<void> = Promise.resolve();
  const once = (): Promise<void> => {
    inFlight = inFlight.then(() =>
      dir.heartbeat(beat(), ttlMs).then(
        () => {
          if (failing) log.info('agent heartbeat recorded again');
          failing = false;
        },
        (err: unknown) => {
          if (!failing) log.warn({ err: (err as Error).message }, 'agent heartbeat failed; retrying at the next beat');
          failing = true;
        },
      ),
    );
    return inFlight;
  };
  void once();
  const timer = setInterval(() => void once(), everyMs);
  timer.unref();
  return {
    beatNow: once,
    async stop() {
      clearInterval(timer);
      await inFlight;
      await dir.leave(beat().name).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not record the agent leaving'));
    },
  };
}
