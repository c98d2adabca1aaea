import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StoreConnection } from '../sinks/open-sink.js';

/** Flags every command that talks to a store accepts. */
export const STORE_FLAGS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
  'stall-timeout': { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export const STORE_FLAGS_HELP = `  --endpoint URL      S3/OSS endpoint (S3 also honours AWS_ENDPOINT_URL)
  --region R          region (S3 also honours AWS_REGION / profiles)
  --path-style        path-style bucket addressing (S3-compatible servers, custom OSS endpoints)
  --stall-timeout S   seconds without a byte moving before a store request is abandoned and retried
                      (default $VMXFER_TRANSFER_STALL_TIMEOUT or 45); a part may take this plus its size at 64 KiB/s
  --state-dir DIR     where checkpoints live (default $VMXFER_STATE_DIR or ~/.local/state/vmxfer)
Credentials come from each SDK's standard sources: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, shared
profiles, instance roles; OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET.`;

export function storeConnection(values: Record<string, unknown>): StoreConnection {
  return {
    endpoint: values.endpoint as string | undefined,
    region: values.region as string | undefined,
    pathStyle: values['path-style'] as boolean | undefined,
    stallTimeoutMs: stallTimeoutMs(values['stall-timeout'] as string | undefined),
  };
}

/** --stall-timeout, then VMXFER_TRANSFER_STALL_TIMEOUT (the daemon's transfer.stall_timeout), in seconds. */
function stallTimeoutMs(flag: string | undefined): number | undefined {
  const raw = flag ?? process.env.VMXFER_TRANSFER_STALL_TIMEOUT;
  if (raw === undefined || raw === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw vmxError(CORE.USAGE, `--stall-timeout expects a positive number of seconds, got "${raw}"`);
  return seconds * 1000;
}

export function stateDir(values: Record<string, unknown>): string {
  return (
    (values['state-dir'] as string | undefined) ??
    process.env.VMXFER_STATE_DIR ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'vmxfer')
  );
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
