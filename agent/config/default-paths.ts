import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';

/** XDG Base Directory: $XDG_STATE_HOME/vmxfer, else ~/.local/state/vmxfer (the CLI's and the daemon's default). */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'vmxfer');
}

/** The places a configuration file is looked for, in order: $VMXFER_CONFIG, the user's, the system's. */
export function configSearchPath(env: NodeJS.ProcessEnv): string[] {
  const user = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'vmxfer', 'config.yaml');
  return [...(env.VMXFER_CONFIG ? [env.VMXFER_CONFIG] : []), user, '/etc/vmxfer/vmxfer.yaml'];
}

/**
 * The configuration file of every command: --config, else the first of configSearchPath that exists.
 * A file named by --config or $VMXFER_CONFIG is used even when missing, so that the error names it.
 */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (explicit) return explicit;
  if (env.VMXFER_CONFIG) return env.VMXFER_CONFIG;
  return configSearchPath(env).find((p) => existsSync(p));
}

/** agent.name's default: the host name, cut to what the key accepts (letters, digits, . _ -; 64 at most). */
export function defaultAgentName(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'agent';
}
