import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { S3_PART_CHECKSUMS, type S3PartChecksum } from '../sinks/s3/s3-checksum.js';
import { findConfigFile } from '../config/default-paths.js';
import type { StoreConnection } from '../sinks/open-sink.js';
import type { SinkFactory } from '../workflows/ports.js';
import { sinkFactory } from '../workflows/sink-factory.js';
import type { AgentConfig } from '../config/schema.js';
import { loadConfigForCli } from '../daemon/daemon-config.js';

/** Flags every command that talks to a store accepts. */
export const STORE_FLAGS = {
  config: { type: 'string' },
  store: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
  'store-checksum': { type: 'string' },
  'stall-timeout': { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export const STORE_FLAGS_HELP = `  --config FILE       configuration (default: first of $VMXFER_CONFIG, ~/.config/vmxfer/config.yaml,
                      /etc/vmxfer/vmxfer.yaml); its stores, store_profiles, transfer and state_dir apply
  --store NAME        a store of store_profiles (else the one whose urls cover the URL, else stores.*)
  --endpoint URL      S3/OSS endpoint (S3 also honours AWS_ENDPOINT_URL)
  --region R          region (S3 also honours AWS_REGION / profiles)
  --path-style        path-style bucket addressing (S3-compatible servers, custom OSS endpoints)
  --store-checksum C  S3 part checksum the store verifies: crc32c or crc64nvme (AWS S3) or md5
                      (Content-MD5); default crc32c on AWS endpoints, md5 on any other (docs/integrity.md)
  --stall-timeout S   seconds without a byte moving before a store request is abandoned and retried
                      (default transfer.stall_timeout: $VMXFER_TRANSFER_STALL_TIMEOUT, the file, or 45);
                      a part may take this plus its size at 64 KiB/s
  --state-dir DIR     where checkpoints live (default state_dir: $VMXFER_STATE_DIR, the file, or
                      ~/.local/state/vmxfer, as for the daemon)
VMXFER_<KEY> variables override the file's keys (vmxfer config show lists each value and its origin).
Credentials come from each SDK's standard sources: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, shared
profiles, instance roles; OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET.`;

/** The configuration every command shares with the daemon (file, VMXFER_* variables, --state-dir). */
export function cliConfig(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const stall = values['stall-timeout'] as string | undefined;
  if (stall !== undefined && !(Number(stall) > 0)) throw vmxError(CORE.USAGE, `--stall-timeout expects a positive number of seconds, got "${stall}"`);
  return loadConfigForCli({
    file: findConfigFile(values.config as string | undefined, env),
    env,
    overrides: { state_dir: values['state-dir'], 'transfer.stall_timeout': stall },
  });
}

/** The sinks of a command: the flags over the `--store` or URL-matched store profile over the configuration's `stores`. */
export function cliSinks(values: Record<string, unknown>, overrides: Partial<StoreConnection> = storeFlagOverrides(values)): SinkFactory {
  return sinkFactory(cliConfig(values), { profile: values.store as string | undefined, overrides });
}

export function storeFlagOverrides(values: Record<string, unknown>): Partial<StoreConnection> {
  return {
    ...(values.endpoint !== undefined && { endpoint: values.endpoint as string }),
    ...(values.region !== undefined && { region: values.region as string }),
    ...(values['path-style'] !== undefined && { pathStyle: values['path-style'] as boolean }),
    ...(values['store-checksum'] !== undefined && { checksum: storeChecksum(values['store-checksum'] as string) }),
  };
}

function storeChecksum(value: string): S3PartChecksum {
  if (!(S3_PART_CHECKSUMS as readonly string[]).includes(value)) throw vmxError(CORE.USAGE, `--store-checksum expects one of ${S3_PART_CHECKSUMS.join(', ')}, got "${value}"`);
  return value as S3PartChecksum;
}

export function stateDir(values: Record<string, unknown>): string {
  return cliConfig(values).state_dir;
}

/** `--tag k=v` / `--metadata k=v` lists to a record. */
export function keyValues(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw vmxError(CORE.USAGE, `--${flag} expects KEY=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
