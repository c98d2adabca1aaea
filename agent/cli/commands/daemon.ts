import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { runDaemon } from '../../daemon/daemon.js';
import { parseListen } from '../../daemon/daemon-config.js';
import { findConfigFile } from '../../config/default-paths.js';

export const DAEMON_USAGE = `Usage: vmxfer daemon [--config FILE] [--listen HOST:PORT] [--state-dir DIR]

Runs the agent as a service: a persistent job queue (upload, download, convert) with the HTTP API,
/metrics, the WebSocket feed and the dashboard on one listener (docs/api.md). Jobs interrupted by a
stop or a crash resume from their checkpoints at the next start.
  --config FILE       YAML configuration (default: the first of $VMXFER_CONFIG, ~/.config/vmxfer/config.yaml,
                      /etc/vmxfer/vmxfer.yaml; config/vmxfer.yaml documents every key; vmxfer config show)
  --listen HOST:PORT  overrides listen.host and listen.port (default 127.0.0.1:8740)
  --state-dir DIR     overrides state_dir: job store, checkpoints, generated token
Environment: VMXFER_<KEY> overrides any key (VMXFER_LISTEN_PORT=9000), VMXFER_TOKEN sets the token.
Signals: SIGTERM/SIGINT stop taking jobs, checkpoint running ones and exit within 10 s;
SIGHUP reloads the configuration (listen.* and state_dir need a restart).`;

export async function daemonCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { config: { type: 'string' }, listen: { type: 'string' }, 'state-dir': { type: 'string' } },
    DAEMON_USAGE,
  );
  if (values.help) return printUsage(DAEMON_USAGE);
  requirePositionals(positionals, [], DAEMON_USAGE);
  let listen = {};
  if (values.listen) {
    try {
      listen = parseListen(values.listen);
    } catch (err) {
      throw vmxError(CORE.USAGE, `${(err as Error).message}\n\n${DAEMON_USAGE}`);
    }
  }
  return runDaemon(
    { file: findConfigFile(values.config, process.env), env: process.env, overrides: { ...listen, state_dir: values['state-dir'] } },
    signal,
  );
}
