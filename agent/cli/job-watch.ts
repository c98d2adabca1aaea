import { WebSocket } from 'ws';
import { EXIT_CODES, vmxError, type ErrorCategory } from '../core/errors.js';
import { formatBytes, formatDuration } from '../core/units.js';
import { API } from '../api/error-codes.js';
import type { JobProgress, JobView } from '../jobs/job-types.js';
import type { FeedMessage } from '../api/feed-client.js';
import type { DaemonTarget } from './daemon-client.js';

const FINAL = new Set(['completed', 'failed', 'cancelled']);

export interface WatchOptions {
  /** Jobs to follow until they finish; empty: every job, until interrupted. */
  ids: string[];
  mode: 'tty' | 'json' | 'lines';
  out: NodeJS.WriteStream;
  signal: AbortSignal;
}

/**
 * Follows the feed: on a terminal one redrawn line per active job, with --json the feed's messages
 * as JSON lines, otherwise a line per state change. Resolves with the exit status of the watched
 * jobs (0 when all completed) once they all finished.
 */
export function watchJobs(t: DaemonTarget, o: WatchOptions): Promise<number> {
  const ws = new WebSocket(t.url.replace(/^http/, 'ws') + '/v1/feed', { ca: t.ca });
  const jobs = new Map<string, JobView>();
  let drawn = 0;
  const printedAt = new Map<string, number>();
  return new Promise((resolve, reject) => {
    const finish = (code: number) => {
      clearInterval(timer);
      if (o.mode === 'tty') draw();
      ws.close();
      resolve(code);
    };
    const draw = () => {
      if (o.mode !== 'tty') return;
      const rows = [...jobs.values()].filter((j) => o.ids.length ? o.ids.includes(j.id) : !FINAL.has(j.state));
      o.out.write(`\x1b[${drawn}F\x1b[J`.repeat(drawn > 0 ? 1 : 0) + rows.map((j) => bar(j) + '\n').join(''));
      drawn = rows.length;
    };
    const timer = setInterval(draw, 250);
    o.signal.addEventListener('abort', () => finish(EXIT_CODES.aborted), { once: true });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: t.token })));
    ws.on('close', (code) => {
      if (code === 4401) reject(vmxError(API.UNAUTHORIZED, 'the daemon refused the token for the feed'));
      else finish(done() ?? EXIT_CODES.remote);
    });
    ws.on('error', (err) => reject(vmxError(API.DAEMON_UNREACHABLE, `feed at ${t.url}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as FeedMessage;
      if (o.mode === 'json') o.out.write(JSON.stringify(msg) + '\n');
      apply(msg);
      const code = done();
      if (code !== undefined) finish(code);
    });
    const apply = (msg: FeedMessage) => {
      if (msg.type === 'snapshot') for (const j of msg.jobs) jobs.set(j.id, j);
      else if (msg.type === 'job') {
        const before = jobs.get(msg.job.id);
        jobs.set(msg.job.id, msg.job);
        if (o.mode === 'lines' && (before?.state !== msg.job.state || before?.phase !== msg.job.phase)) o.out.write(line(msg.job) + '\n');
      } else if (msg.type === 'progress') {
        const j = jobs.get(msg.id);
        if (!j) return;
        jobs.set(msg.id, { ...j, progress: msg.progress });
        // Without a terminal, a progress line per job every 2 s at most.
        if (o.mode === 'lines' && Date.now() - (printedAt.get(msg.id) ?? 0) >= 2000 && (!o.ids.length || o.ids.includes(msg.id))) {
          printedAt.set(msg.id, Date.now());
          o.out.write(bar(jobs.get(msg.id)!) + '\n');
        }
      }
    };
    /** The exit status once every watched job finished; undefined while any still runs. */
    const done = (): number | undefined => {
      if (o.ids.length === 0) return undefined;
      const watched = o.ids.map((id) => jobs.get(id));
      if (watched.some((j) => !j || !FINAL.has(j.state))) return undefined;
      const bad = watched.find((j) => j!.state !== 'completed');
      if (!bad) return 0;
      return bad.state === 'cancelled' ? EXIT_CODES.aborted : EXIT_CODES[(bad.error?.category ?? 'internal') as ErrorCategory] ?? 1;
    };
  });
}

function bar(j: JobView): string {
  const p: JobProgress = j.progress;
  const frac = p.totalBytes > 0 ? Math.min(1, p.bytesRead / p.totalBytes) : j.state === 'completed' ? 1 : 0;
  const width = 24;
  const full = Math.round(frac * width);
  const status = j.state === 'active' ? (j.phase ?? 'active') : j.state;
  return (
    `${j.id} ${status.padEnd(11)} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(frac * 100).toFixed(1).padStart(5)}% ` +
    `${formatBytes(p.bytesRead)}/${formatBytes(p.totalBytes)} ${formatBytes(p.rate)}/s parts ${p.partsDone}` +
    `${p.partsInFlight ? `+${p.partsInFlight}` : ''} ETA ${formatDuration(p.etaSeconds ?? Number.POSITIVE_INFINITY)}` +
    (j.error ? ` ${j.error.code}` : '')
  );
}

export function line(j: JobView): string {
  return `${j.id} ${j.state}${j.phase ? ` (${j.phase})` : ''} ${j.source} -> ${j.destination}${j.error ? ` ${j.error.code}: ${j.error.message}` : ''}`;
}
