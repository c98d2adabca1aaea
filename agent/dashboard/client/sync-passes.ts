import type { Job, SyncPass } from './api-types.js';
import { byId } from './dom.js';
import { formatBytes, formatTime } from './format.js';
import { OutcomeTable } from './outcome-table.js';

/** docs/api.md "Sync jobs": a sync job's finished passes, one row each, kept current by the feed. */
export class SyncPasses {
  private readonly table = new OutcomeTable<SyncPass>(byId('job-passes-table'), [
    { label: 'Pass', cell: (p) => (p.final ? `${p.n} (cutover)` : String(p.n)), short: true },
    { label: 'Started', cell: (p) => formatTime(p.startedAt) },
    { label: 'Seconds', cell: (p) => p.seconds.toFixed(1), short: true },
    { label: 'Read', cell: (p) => bytes(p.bytesRead), short: true },
    { label: 'Sent', cell: (p) => bytes(p.bytesSent), short: true },
    { label: 'Parts copied / sent', cell: (p) => `${p.partsCopied ?? '—'} / ${p.partsSent ?? '—'}`, short: true },
  ]);

  render(job: Job): void {
    const passes = job.passes ?? [];
    byId('job-passes').hidden = job.kind !== 'sync';
    this.table.set(passes);
  }
}

function bytes(n: number | undefined): string {
  return n === undefined ? '—' : formatBytes(n);
}
