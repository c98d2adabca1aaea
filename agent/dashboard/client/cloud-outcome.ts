import type { CloudOutcomeSoFar, CopyProgress, DataDisk, Finding, ImageShares, Job } from './api-types.js';
import { byId } from './dom.js';
import { FactsList } from './facts-list.js';
import { formatBytes } from './format.js';
import { OutcomeTable } from './outcome-table.js';

interface ShareRow {
  region: string;
  imageId: string;
  account: string;
  outcome: string;
}

type DiskRow = DataDisk & { n: number };

/**
 * What the cloud made of a job beyond its task (docs/api.md Job): the AMI registered from snapshots,
 * the copies per region, the shares per account, the export's object and data disks, and the
 * preflight's findings. Each section shows only when the job carries it, and follows every update.
 */
export class CloudOutcome {
  private readonly image = new FactsList(byId('job-image-facts'));
  private readonly exported = new FactsList(byId('job-export-facts'));
  /** docs/api.md Job.cloudOutcome: each copy with its state while the job runs; result.import's copies once it completed. */
  private readonly copies = new OutcomeTable<CopyProgress>(byId('job-copies-table'), [
    { label: 'Region', cell: (c) => c.region, short: true },
    { label: 'Image id', cell: (c) => c.imageId ?? '—', short: true },
    { label: 'State', cell: copyState },
  ]);
  private readonly shares = new OutcomeTable<ShareRow>(byId('job-shares-table'), [
    { label: 'Region', cell: (s) => s.region, short: true },
    { label: 'Image id', cell: (s) => s.imageId, short: true },
    { label: 'Account', cell: (s) => s.account, short: true },
    { label: 'Outcome', cell: (s) => s.outcome },
  ]);
  private readonly dataDisks = new OutcomeTable<DiskRow>(byId('job-data-disks-table'), [
    { label: 'Disk', cell: (d) => `data${d.n}`, short: true },
    { label: 'Object', cell: (d) => d.key },
    { label: 'File', cell: (d) => d.destination },
    { label: 'Size', cell: (d) => formatBytes(d.objectSize), short: true },
    { label: 'SHA-256', cell: (d) => d.outputSha256 ?? '—' },
  ]);
  private readonly findings = new OutcomeTable<Finding>(byId('job-preflight-table'), [
    { label: 'Severity', cell: (f) => f.severity, short: true },
    { label: 'Rule', cell: (f) => f.rule },
    { label: 'Cloud code', cell: (f) => f.cloudCode, short: true },
    { label: 'Finding', cell: (f) => f.message },
    { label: 'What happens', cell: (f) => (f.convertTo ? `${f.hint} (converts to ${f.convertTo})` : f.hint) },
  ]);

  render(job: Job): void {
    const imported = outcomeOf(job);
    const exported = job.result?.export;
    show('job-image', Boolean(imported?.imageId));
    if (imported?.imageId) {
      this.image.set('Image id', imported.imageId);
      this.image.set('Image import task', imported.imageTaskId ?? '—');
    }
    show('job-export', Boolean(exported));
    if (exported) {
      this.exported.set('Export task', exported.taskId);
      this.exported.set('Bucket', exported.bucket);
      this.exported.set('Object', exported.key);
    }
    this.table('job-copies', this.copies, imported?.copies ?? []);
    this.table('job-shares', this.shares, (imported?.shares ?? []).flatMap(shareRows));
    this.table('job-data-disks', this.dataDisks, (job.result?.dataDisks ?? []).map((d, i) => ({ ...d, n: i + 1 })));
    this.table('job-preflight', this.findings, job.preflight ?? []);
  }

  private table<T>(section: string, table: OutcomeTable<T>, rows: T[]): void {
    show(section, rows.length > 0);
    table.set(rows);
  }
}

/** A completed job's result.import (every copy in it available), else what the running job reports so far. */
function outcomeOf(job: Job): CloudOutcomeSoFar | null | undefined {
  const done = job.result?.import;
  if (!done) return job.cloudOutcome;
  return { ...done, copies: (done.copies ?? []).map((c) => ({ ...c, state: 'available' })), shares: done.shares ?? [] };
}

function copyState(c: CopyProgress): string {
  return c.state === 'failed' || c.state === 'cancelled' ? refused(c.state, { cloudCode: c.cloudCode ?? c.code, message: c.reason }) : c.state;
}

function show(section: string, visible: boolean): void {
  byId(section).hidden = !visible;
}

function shareRows(image: ImageShares): ShareRow[] {
  const rows = image.accounts.map((a) => ({ region: image.region, imageId: image.imageId, account: a.account, outcome: a.shared ? 'shared' : refused('refused', a) }));
  const community = image.community;
  if (community) rows.push({ region: image.region, imageId: image.imageId, account: 'community (public)', outcome: community.published ? 'published' : refused('not published', community) });
  return rows;
}

function refused(word: string, why: { cloudCode?: string; message?: string }): string {
  return [word, why.cloudCode, why.message].filter(Boolean).join(': ');
}
