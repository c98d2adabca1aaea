import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { AwsConnection } from '../cloud/aws/aws-clients.js';
import type { EcsConnection } from '../cloud/ecs/ecs-clients.js';
import type { PollPolicy } from '../cloud/poll-task.js';
import { DEFAULT_POLL, pollEvery } from '../cloud/poll-task.js';
import { ecsConnectionFor } from '../cloud/ecs/ecs-connection.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';

/** Options every cloud command takes. */
export const CLOUD_OPTIONS = {
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'oss-endpoint': { type: 'string' },
  'poll-seconds': { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

export function requireOption(values: Values, name: string, usage: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw vmxError(CORE.USAGE, `--${name} is required\n\n${usage}`);
  return v;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], name: string, usage: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw vmxError(CORE.USAGE, `--${name} must be one of ${allowed.join(', ')}, not "${value}"\n\n${usage}`);
  return value as T;
}

/** --tag k=v (or another repeatable KEY=VALUE flag), repeatable. */
export function parseTags(raw: string[] | undefined, usage: string, flag = 'tag'): Record<string, string> | undefined {
  if (!raw?.length) return undefined;
  const out: Record<string, string> = {};
  for (const t of raw) {
    const i = t.indexOf('=');
    if (i <= 0) throw vmxError(CORE.USAGE, `--${flag} takes KEY=VALUE, not "${t}"\n\n${usage}`);
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

/** AWS: region from --region or AWS_REGION; credentials from the SDK's standard chain. */
export function awsConnection(values: Values, usage: string): AwsConnection {
  const region = (values.region as string | undefined) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw vmxError(CORE.USAGE, `--region (or AWS_REGION) is required\n\n${usage}`);
  return { region, endpoint: values.endpoint as string | undefined, s3Endpoint: values['s3-endpoint'] as string | undefined };
}

/** Alibaba: region from --region or ALIBABA_CLOUD_REGION_ID; credentials from @alicloud/credentials' default chain. */
export function ecsConnection(values: Values, usage: string): EcsConnection {
  const region = (values.region as string | undefined) ?? process.env.ALIBABA_CLOUD_REGION_ID;
  if (!region) throw vmxError(CORE.USAGE, `--region (or ALIBABA_CLOUD_REGION_ID) is required\n\n${usage}`);
  return ecsConnectionFor(region, values.endpoint as string | undefined);
}


export function pollPolicy(values: Values, usage: string): PollPolicy {
  const raw = values['poll-seconds'] as string | undefined;
  if (raw === undefined) return DEFAULT_POLL;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw vmxError(CORE.USAGE, `--poll-seconds must be a positive number, not "${raw}"\n\n${usage}`);
  return pollEvery(s);
}

/** One line per task status change, on stderr (JSON lines on stdout with --json). */
export function statusPrinter(json: boolean): (s: CloudTaskStatus) => void {
  return (s) => {
    if (json) process.stdout.write(JSON.stringify({ type: 'cloudTask', ...s }) + '\n');
    else process.stderr.write(`${s.kind} ${s.id}: ${s.state}${s.message ? ` (${s.message})` : ''}${s.progress !== undefined ? ` ${s.progress}%` : ''}\n`);
  };
}
