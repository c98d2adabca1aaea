import type { Job, JobState } from './api-types.js';
import { el, setAttr, setText } from './dom.js';
import { formatEta, formatRate } from './format.js';
import { createProgressBar, updateProgressBar, type ProgressBar } from './progress-bar.js';
import { compareJobs, LIVE_KEYS, type SortKey, type SortOrder } from './job-order.js';
import type { JobStore } from './job-store.js';

interface Row {
  tr: HTMLTableRowElement;
  open: HTMLButtonElement;
  state: HTMLElement;
  bar: ProgressBar;
  rate: HTMLElement;
  eta: HTMLElement;
  source: HTMLElement;
  destination: HTMLElement;
  format: HTMLElement;
  lastState: JobState | undefined;
}

const COLUMNS = ['Job', 'State', 'Progress', 'Rate', 'ETA', 'Source', 'Destination', 'Format'] as const;

/**
 * The jobs table, updated by key: a row per job id is created once and only its changed cells are
 * touched; rows are re-ordered only when the visible order actually changed.
 */
export class JobsTable {
  private readonly rows = new Map<string, Row>();
  private order: SortOrder = { key: 'createdAt', descending: true };
  private filter: JobState | '' = '';
  private orderDirty = true;

  constructor(
    private readonly store: JobStore,
    private readonly body: HTMLTableSectionElement,
    private readonly count: HTMLElement,
    private readonly onOpen: (id: string) => void,
  ) {}

  setSort(key: SortKey): SortOrder {
    this.order = { key, descending: this.order.key === key ? !this.order.descending : key === 'createdAt' };
    this.orderDirty = true;
    return this.order;
  }

  setFilter(state: JobState | ''): void {
    this.filter = state;
    this.orderDirty = true;
  }

  render(dirty: ReadonlySet<string>, all: boolean): void {
    if (all) this.syncAllRows();
    for (const id of dirty) this.renderJob(id);
    if (this.orderDirty || (dirty.size > 0 && LIVE_KEYS.has(this.order.key))) this.reorder();
  }

  private syncAllRows(): void {
    for (const [id, row] of this.rows) {
      if (!this.store.get(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    for (const job of this.store.all()) this.renderJob(job.id);
    this.orderDirty = true;
  }

  private renderJob(id: string): void {
    const job = this.store.get(id);
    if (!job) return;
    let row = this.rows.get(id);
    if (!row) {
      row = this.createRow(job);
      this.rows.set(id, row);
      this.orderDirty = true;
    }
    if (row.lastState !== job.state) this.orderDirty = true;
    updateRow(row, job);
  }

  private createRow(job: Job): Row {
    const open = el('button', { type: 'button', class: 'link', 'aria-label': `Open job ${job.id}` }, job.id);
    open.addEventListener('click', () => this.onOpen(job.id));
    const cells = COLUMNS.map((label) => el('td', { 'data-label': label }));
    const bar = createProgressBar(`Progress of job ${job.id}`);
    const state = el('span', { class: 'badge' });
    cells[0]!.append(open);
    cells[1]!.append(state);
    cells[2]!.append(bar.root);
    const tr = el('tr', { 'data-job-id': job.id }, ...cells);
    return {
      tr, open, state, bar, lastState: undefined,
      rate: cells[3]!, eta: cells[4]!, source: cells[5]!, destination: cells[6]!, format: cells[7]!,
    };
  }

  private reorder(): void {
    this.orderDirty = false;
    const visible = this.store.all().filter((j) => !this.filter || j.state === this.filter);
    visible.sort(compareJobs(this.order));
    const wanted = visible.map((j) => this.rows.get(j.id)!.tr);
    const current = this.body.children;
    for (let i = 0; i < wanted.length; i++) {
      if (current[i] !== wanted[i]) this.body.insertBefore(wanted[i]!, current[i] ?? null);
    }
    while (current.length > wanted.length) current[current.length - 1]!.remove();
    setText(this.count, countSentence(visible.length, this.store.size, this.filter));
  }
}

function updateRow(row: Row, job: Job): void {
  row.lastState = job.state;
  setAttr(row.tr, 'data-state', job.state);
  setAttr(row.state, 'data-state', job.state);
  const stalled = isStalled(job);
  setAttr(row.tr, 'data-stalled', String(stalled));
  setAttr(row.state, 'data-stalled', String(stalled));
  setText(row.state, stateWords(job));
  updateProgressBar(row.bar, job.progress, job.state);
  setText(row.rate, job.state === 'active' ? formatRate(job.progress.rate) : '—');
  setText(row.eta, job.state === 'active' ? formatEta(job.progress.etaSeconds) : '—');
  setText(row.source, job.source);
  setText(row.destination, job.destination);
  setText(row.format, job.format);
}

/** docs/api.md progress.stalled: only an active job's requests can be stalled now. */
export function isStalled(job: Job): boolean {
  return job.state === 'active' && job.progress.stalled === true;
}

/** The state cell: the state, the active job's phase, and "stalled" while no byte moves. */
export function stateWords(job: Job): string {
  if (job.state !== 'active') return job.state;
  return [job.state, job.phase, isStalled(job) ? 'stalled' : undefined].filter(Boolean).join(' · ');
}

function countSentence(shown: number, total: number, filter: string): string {
  if (total === 0) return 'No jobs yet.';
  return filter ? `${shown} of ${total} jobs are ${filter}.` : `${total} job${total === 1 ? '' : 's'}.`;
}
