import { resolve } from 'node:path';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { keyValues } from '../store-flags.js';
import { CORE } from '../../core/error-codes.js';
import { EXIT_CODES, vmxError, type ErrorCategory } from '../../core/errors.js';
import { formatBytes } from '../../core/units.js';
import type { JobView } from '../../jobs/job-types.js';
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, apiCall, daemonTarget, type DaemonTarget } from '../daemon-client.js';
import { line, watchJobs } from '../job-watch.js';
import { readWaveFile } from '../wave-file.js';

export const JOBS_USAGE = `Usage: vmxfer jobs submit SRC DEST [--as FORMAT] [options]
       vmxfer jobs submit --file WAVE.yaml [--priority N] [--agent NAME] [--watch]
       vmxfer jobs list [--state S[,S...]]
       vmxfer jobs show ID
       vmxfer jobs cancel ID
       vmxfer jobs watch [ID...]

Talks to a running \`vmxfer daemon\` (docs/api.md). SRC is a local image path (made absolute) and
DEST an s3://, oss:// or file:/// URL; or SRC an s3:// or oss:// URL and DEST a new local file (a download).
  --as FORMAT         vmdk | vhd | vhd-fixed | qcow2 | raw | original (default original); an upload
                      converts before sending, a download converts the object on the way
  --part-size SIZE    --concurrency N  --parent FILE  --storage-class C  --tag K=V  --metadata K=V
  --sse ALG           --sse-kms-key-id ID
  --priority N        (submit) higher runs first among queued jobs (-1000 to 1000, default 0)
  --agent NAME        (submit) only the agent of this name runs the job (a fleet: docs/api.md)
  --file FILE         (submit) a wave: a YAML or JSON list of submit bodies (docs/api.md "Submit body"),
                      or "jobs:" with one; validated whole, created together, one id printed per job.
                      Relative paths are read from the file's directory; --priority and --agent apply
                      to the jobs that set none
  --watch             (submit) follow the job (or the wave's jobs) until it finishes
  --state S           (list) only jobs in these states
${CLIENT_FLAGS_HELP}
watch draws one live line per job on a terminal, or prints the feed's JSON messages with --json;
given IDs it exits when they have finished (0 if all completed).`;

const FLAGS = {
  ...CLIENT_FLAGS,
  as: { type: 'string' },
  'part-size': { type: 'string' },
  concurrency: { type: 'string' },
  parent: { type: 'string' },
  'storage-class': { type: 'string' },
  tag: { type: 'string', multiple: true },
  metadata: { type: 'string', multiple: true },
  sse: { type: 'string' },
  'sse-kms-key-id': { type: 'string' },
  watch: { type: 'boolean' },
  state: { type: 'string', multiple: true },
  file: { type: 'string' },
  priority: { type: 'string' },
  agent: { type: 'string' },
} as const;

export async function jobsCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(argv, FLAGS, JOBS_USAGE);
  const [action, ...args] = positionals;
  if (values.help || !action) return action ? printUsage(JOBS_USAGE) : usage('a subcommand: submit, list, show, cancel or watch');
  const t = await daemonTarget(values);
  const out = (json: unknown, text: string) => process.stdout.write(values.json ? JSON.stringify(json) + '\n' : text + '\n');
  switch (action) {
    case 'submit': {
      const placement = placementFlags(values);
      if (values.file !== undefined) {
        requirePositionals(args, [], JOBS_USAGE);
        const single = SINGLE_JOB_FLAGS.find((f) => values[f] !== undefined);
        if (single) usage(`--${single} with SRC DEST only; a wave file sets it in each job body`);
        const bodies = (await readWaveFile(values.file)).map((b) => ({ ...placement, ...b }));
        const { jobs } = expect(await apiCall(t, 'POST', '/v1/jobs', { jobs: bodies }), 201);
        out({ jobs }, (jobs as JobView[]).map((j) => `${j.id} ${j.state}`).join('\n'));
        return values.watch ? watch(t, (jobs as JobView[]).map((j) => j.id), values, signal) : 0;
      }
      const [src, dest] = requirePositionals(args, ['SRC', 'DEST'], JOBS_USAGE);
      const { job } = expect(await apiCall(t, 'POST', '/v1/jobs', { ...submitBody(src!, dest!, values), ...placement }), 201);
      out({ job }, `${job.id} ${job.state}`);
      return values.watch ? watch(t, [job.id], values, signal) : 0;
    }
    case 'list': {
      requirePositionals(args, [], JOBS_USAGE);
      const q = (values.state ?? []).map((s) => `state=${encodeURIComponent(s)}`).join('&');
      const { jobs } = expect(await apiCall(t, 'GET', `/v1/jobs${q ? `?${q}` : ''}`), 200);
      out({ jobs }, (jobs as JobView[]).map(line).join('\n') || '(no jobs)');
      return 0;
    }
    case 'show': {
      const [id] = requirePositionals(args, ['ID'], JOBS_USAGE);
      const { job } = expect(await apiCall(t, 'GET', `/v1/jobs/${encodeURIComponent(id!)}`), 200);
      out({ job }, describe(job));
      return job.state === 'failed' ? (EXIT_CODES[job.error?.category as ErrorCategory] ?? 1) : 0;
    }
    case 'cancel': {
      const [id] = requirePositionals(args, ['ID'], JOBS_USAGE);
      const { job } = expect(await apiCall(t, 'POST', `/v1/jobs/${encodeURIComponent(id!)}/cancel`), 202);
      out({ job }, `${job.id} ${job.state}`);
      return 0;
    }
    case 'watch':
      return watch(t, args, values, signal);
    default:
      return usage(`an action of submit, list, show, cancel or watch, not "${action}"`);
  }
}

function usage(what: string): never {
  throw vmxError(CORE.USAGE, `vmxfer jobs needs ${what}\n\n${JOBS_USAGE}`);
}

function watch(t: DaemonTarget, ids: string[], values: Record<string, unknown>, signal: AbortSignal): Promise<number> {
  const mode = values.json ? 'json' : process.stdout.isTTY ? 'tty' : 'lines';
  return watchJobs(t, { ids, mode, out: process.stdout, signal });
}

/** Flags that build one job's body (submitBody): a wave file's bodies carry their own. */
const SINGLE_JOB_FLAGS = ['as', 'part-size', 'concurrency', 'parent', 'storage-class', 'tag', 'metadata', 'sse', 'sse-kms-key-id'] as const;

/** `--priority` and `--agent` as submit body fields (the daemon checks their bounds and form). */
function placementFlags(v: Record<string, unknown>): { priority?: number; agent?: string } {
  const out: { priority?: number; agent?: string } = {};
  if (v.priority !== undefined) {
    if (!/^-?\d+$/.test(v.priority as string)) usage(`--priority as an integer, not "${v.priority as string}"`);
    out.priority = Number(v.priority);
  }
  if (v.agent !== undefined) out.agent = v.agent as string;
  return out;
}

function submitBody(src: string, dest: string, v: Record<string, unknown>) {
  const local = (p: string) => (/^[a-z0-9]+:\/\//i.test(p) ? p : resolve(p));
  const options: Record<string, unknown> = {};
  if (v['part-size']) options.partSize = v['part-size'];
  if (v.concurrency) options.concurrency = Number(v.concurrency);
  if (v.parent) options.parent = resolve(v.parent as string);
  if (v['storage-class']) options.storageClass = v['storage-class'];
  if (v.sse) options.encryption = { algorithm: v.sse, ...(v['sse-kms-key-id'] ? { kmsKeyId: v['sse-kms-key-id'] } : {}) };
  const tags = keyValues(v.tag as string[] | undefined, 'tag');
  const metadata = keyValues(v.metadata as string[] | undefined, 'metadata');
  if (tags) options.tags = tags;
  if (metadata) options.metadata = metadata;
  return { source: local(src), destination: local(dest), format: (v.as as string | undefined) ?? 'original', options };
}

/** The API's answer, or its error as a typed error with the API's own code and message. */
function expect(r: { status: number; json: any }, status: number): any {
  if (r.status === status) return r.json;
  const e = r.json?.error;
  const category = (e?.category ?? 'remote') as ErrorCategory;
  const field = e?.field ? ` (field ${e.field})` : '';
  const code = typeof e?.code === 'string' ? e.code : 'API_UNEXPECTED';
  const message = String(e?.message ?? 'no error message').replace(/ \[[A-Z0-9_]+\]$/, '');
  throw vmxError({ code, category, summary: '' }, `the daemon answered ${r.status}: ${message}${field}`);
}

function describe(j: JobView): string {
  const p = j.progress;
  const parts = j.parts ?? [];
  const count = (s: string) => parts.filter((x) => x.state === s).length;
  return [
    line(j),
    `  kind ${j.kind}, format ${j.format}, attempts ${j.attempts}, created ${j.createdAt}, finished ${j.finishedAt ?? '-'}`,
    `  agent ${j.agent ?? '-'}${j.affinity ? ` (only ${j.affinity} runs it)` : ''}, priority ${j.priority}`,
    `  progress ${formatBytes(p.bytesRead)}/${formatBytes(p.totalBytes)}, written ${formatBytes(p.bytesWritten)}, parts ${p.partsDone}/${p.partsTotal ?? '?'}`,
    `  parts: ${count('done')} done, ${count('skipped')} skipped, ${count('in-flight')} in flight, ${count('failed')} failed, ${count('pending')} pending`,
    j.result ? `  result: ${formatBytes(j.result.objectSize)} etag ${j.result.etag} output sha256 ${j.result.outputSha256 ?? '-'} in ${j.result.seconds.toFixed(2)} s` : '',
  ].filter(Boolean).join('\n');
}
