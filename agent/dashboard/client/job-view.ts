import { isCancellable, type Job, type Part } from './api-types.js';
import type { ApiClient } from './api-client.js';
import { byId, setText } from './dom.js';
import { CloudOutcome } from './cloud-outcome.js';
import { SyncPasses } from './sync-passes.js';
import { FactsList } from './facts-list.js';
import { formatBytes, formatEta, formatRate, formatTime } from './format.js';
import { PartsGrid } from './parts-grid.js';
import { ThroughputChart } from './throughput-chart.js';
import { createProgressBar, updateProgressBar } from './progress-bar.js';
import { confirmCancel } from './cancel-dialog.js';
import { isStaleReply } from './stale-reply.js';
import { isStalled } from './jobs-table.js';

/**
 * One job in detail: facts, progress, the parts grid, the throughput chart, checksums, the cloud
 * task and what it made (image, copies, shares, export, data disks, preflight findings), and the full
 * error. Loaded with GET /v1/jobs/:id, then kept live by the feed.
 */
export class JobView {
  private id: string | null = null;
  private job: Job | null = null;
  private loading: Part[][] | null = null;
  private readonly root = byId('job-view');
  private readonly facts = new FactsList(byId('job-facts'));
  private readonly checksums = new FactsList(byId('job-checksums'));
  private readonly cloud = new FactsList(byId('job-cloud-facts'));
  private readonly cloudOutcome = new CloudOutcome();
  private readonly passes = new SyncPasses();
  private readonly bar = createProgressBar('Job progress');
  private readonly grid = new PartsGrid(byId<HTMLCanvasElement>('parts-canvas'), byId('parts-legend'));
  private readonly chart = new ThroughputChart(byId<HTMLCanvasElement>('throughput-canvas'));
  private readonly cancelButton = byId<HTMLButtonElement>('job-cancel');

  /** `onJob` takes the jobs this view receives from the API; `known` is the page's copy, kept by the feed. */
  constructor(private readonly api: ApiClient, private readonly onJob: (job: Job) => void, private readonly known: (id: string) => Job | undefined) {
    byId('job-progress').append(this.bar.root);
    byId('job-close').addEventListener('click', () => this.close());
    this.cancelButton.addEventListener('click', () => void this.cancel());
  }

  get openId(): string | null {
    return this.id;
  }

  async open(id: string): Promise<void> {
    this.id = id;
    this.loading = [];
    this.root.hidden = false;
    setText(byId('job-title'), `Job ${id}`);
    setText(byId('job-status'), 'Loading…');
    // Until the job has loaded there is nothing to cancel: say so rather than ignore the press.
    this.cancelButton.disabled = true;
    this.root.focus();
    try {
      const job = await this.api.job(id);
      if (this.id !== id) return;
      this.grid.reset(job.parts ?? [], job.progress.partsTotal);
      for (const parts of this.loading) this.grid.apply(parts);
      this.chart.reset(job.throughput ?? []);
      const known = this.known(id);
      this.update(known && isStaleReply(known, job) ? known : job);
      setText(byId('job-status'), '');
    } catch (err) {
      if (this.id === id) setText(byId('job-status'), `Could not load job ${id}: ${(err as Error).message}`);
    } finally {
      if (this.id === id) this.loading = null;
    }
  }

  close(): void {
    this.id = null;
    this.job = null;
    this.root.hidden = true;
    document.getElementById('jobs-section')?.focus();
  }

  /** The job's summary changed (feed "job" or "progress"); parts and throughput history stay. */
  update(job: Job): void {
    if (job.id !== this.id) return;
    const liveRate = this.job !== null && job.state === 'active';
    this.job = job;
    if (liveRate) this.chart.addLive(job.progress.rate);
    this.renderFacts(job);
    this.renderOutcome(job);
  }

  applyParts(id: string, parts: Part[]): void {
    if (id !== this.id) return;
    if (this.loading) this.loading.push(parts);
    else this.grid.apply(parts);
  }

  private renderFacts(job: Job): void {
    const p = job.progress;
    updateProgressBar(this.bar, p, job.state);
    this.root.dataset.state = job.state;
    this.root.dataset.stalled = String(isStalled(job));
    this.cancelButton.disabled = !isCancellable(job.state);
    const state = job.phase ? `${job.state} (${job.phase})` : job.state;
    this.facts.set('State', isStalled(job) ? `${state}, stalled: no byte has moved to or from the store for the stall timeout; retrying` : state);
    this.facts.set('Source', job.source);
    this.facts.set('Destination', job.destination);
    this.facts.set('Format', job.format);
    this.grid.setTotal(p.partsTotal);
    this.facts.set('Read', `${formatBytes(p.bytesRead)} of ${formatBytes(p.totalBytes)}${p.disk ? `, disk ${p.disk.index} of ${p.disk.count}` : ''}`);
    this.facts.set('Written', formatBytes(p.bytesWritten));
    this.facts.set('Sent', p.outputBytes !== undefined ? `${formatBytes(p.bytesConfirmed ?? 0)} of ${formatBytes(p.outputBytes)}, confirmed by the store` : '—');
    this.facts.set('Rate', formatRate(p.rate));
    this.facts.set('ETA', job.state === 'active' ? formatEta(p.etaSeconds) : '—');
    this.facts.set('Parts', `${p.partsDone} done, ${p.partsInFlight} in flight, of ${p.partsTotal ?? '?'} (${formatBytes(p.partSize)} each)`);
    // docs/api.md Job.agent / affinity / priority: where it runs, where it must run, its place in the queue.
    this.facts.set('Agent', `${job.agent ?? '—'}${job.affinity ? `; only ${job.affinity} runs it` : ''}`);
    this.facts.set('Priority', String(job.priority ?? 0));
    this.facts.set('Attempts', String(job.attempts));
    this.facts.set('Created', formatTime(job.createdAt));
    this.facts.set('Started', formatTime(job.startedAt));
    this.facts.set('Finished', formatTime(job.finishedAt));
  }

  private renderOutcome(job: Job): void {
    const r = job.result;
    // docs/integrity.md: `<kind>:<hex>`; results of older daemons carry only the bare SHA-256.
    this.checksums.set('Source digest', r?.sourceDigest || (r?.sourceSha256 ? `sha256:${r.sourceSha256}` : '—'));
    this.checksums.set('Output digest', r?.outputDigest || (r?.outputSha256 ? `sha256:${r.outputSha256}` : '—'));
    this.checksums.set('ETag', r?.etag || '—');
    this.checksums.set('Object size', r ? formatBytes(r.objectSize) : '—');
    this.checksums.set('Seconds', r ? r.seconds.toFixed(1) : '—');
    byId('job-cloud').hidden = !job.cloudTask;
    if (job.cloudTask) {
      this.cloud.set('Kind', job.cloudTask.kind);
      this.cloud.set('Task id', job.cloudTask.id);
      this.cloud.set('State', job.cloudTask.state);
      this.cloud.set('Message', job.cloudTask.message || '—');
      this.cloud.set('Progress', job.cloudTask.progress === undefined ? '—' : `${job.cloudTask.progress}%`);
      this.cloud.set('Result', r?.import?.resourceIds.join(', ') || (r?.export ? `${r.export.bucket}/${r.export.key}` : '—'));
    }
    this.cloudOutcome.render(job);
    this.passes.render(job);
    byId('job-error').hidden = !job.error;
    setText(byId('job-error-code'), job.error?.code ?? '');
    setText(byId('job-error-category'), job.error?.category ?? '');
    setText(byId('job-error-message'), job.error?.message ?? '');
  }

  private async cancel(): Promise<void> {
    const job = this.job;
    if (!job || !(await confirmCancel(job.id, job.destination))) return;
    try {
      this.onJob(await this.api.cancel(job.id));
      setText(byId('job-status'), `Cancel requested for ${job.id}.`);
    } catch (err) {
      setText(byId('job-status'), `Cancel failed: ${(err as Error).message}`);
    }
  }
}
