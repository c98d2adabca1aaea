import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ProgressTracker, type Phase } from '../core/progress.js';
import { openDisk } from '../formats/detect.js';
import { fsError } from '../io/random-access-file.js';
import type { OpenedSink } from '../sinks/open-sink.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import { vmxError } from '../core/errors.js';
import { STORE } from '../sinks/error-codes.js';
import type { PartEvent, UploadResult } from '../transfer/upload.js';
import { checkpointId } from '../transfer/upload-checkpoint.js';
import type { DownloadResult } from '../transfer/download.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../transfer/download-checkpoint.js';
import { FileCheckpointStore, type CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { Direction } from '../metrics/agent-metrics.js';
import { pollEvery } from '../cloud/poll-task.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import type { UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import type { ImportStepResult } from '../cloud/tasks/import-step.js';
import { discardDisks, discardDownload, exportDisks, type FinishedDisk } from '../cloud/tasks/export-disks.js';
import type { ExportedObject } from '../cloud/tasks/export-task.js';
import type { Finding } from '../cloud/preflight/finding.js';
import type { GuestReport } from '../guest/inspector.js';
import type { SinkFactory, StepJournal, WorkflowPorts, WorkflowReporter } from '../workflows/ports.js';
import { sinkFactory } from '../workflows/sink-factory.js';
import { STEP } from '../workflows/steps.js';
import { uploadWorkflow, type UploadWorkflowResult } from '../workflows/upload.js';
import { syncWorkflow, type Cutover, type SyncPass } from '../workflows/sync.js';
import { ebsUploadWorkflow } from '../workflows/ebs-upload.js';
import { readChangedExtentList, type ChangedExtentList } from '../incremental/changed-blocks/extent-list.js';
import type { IncrementalResult } from '../incremental/incremental-upload.js';
import { changeListId } from '../incremental/changed-checkpoint.js';
import { isEbsUrl, parseEbsUrl } from '../ebs/ebs-url.js';
import { ebsCheckpointId, isEbsCheckpoint, type EbsCheckpoint } from '../ebs/snapshot-checkpoint.js';
import { exportWorkflow } from '../workflows/export.js';
import { downloadedSha256, downloadWorkflow, exportDiskDownload, type DownloadSettings } from '../workflows/download.js';
import { observedSink } from './observed-sink.js';
import { confineJobOutputs } from './confine-job.js';
import type { PartBoard } from './part-board.js';
import { retryPolicy, type RunContext } from './run-context.js';
import type { ImportedResult, JobOptions, JobPhase, JobRecord, JobResult } from './job-types.js';
import { preflightJobImport } from './import-after-upload.js';
import { preflightJobExport } from './export-job-preflight.js';
import { cancelTaskUnlessShutdown } from './job-cloud-task.js';
import { stepsOf } from './record-step-journal.js';
import type { TaskSlots } from '../cloud/tasks/task-slots.js';
import { processSemaphore } from '../fleet/fleet-semaphore-local.js';

export type OutcomeChange = Parameters<WorkflowReporter['outcome']>[0];

/**
 * One run of one job: its progress, its parts, the signal that stops it, the journal of its steps
 * (the record's `steps`), and what it tells the job service.
 */
export interface JobRun {
  progress: ProgressTracker;
  parts: PartBoard;
  signal: AbortSignal;
  journal: StepJournal;
  onPhase(phase: JobPhase): void;
  /** The job passed its checks; `findings` are the preflight's repairs and warnings (never errors). */
  onValidated(findings?: Finding[]): void;
  /** What the guest inspection of an import job found (docs/api.md Job.guest), before its rules judge it. */
  onGuest(report: GuestReport): void;
  onCloudTask(status: CloudTaskStatus): void;
  /** The import's result once copies or shares follow it, then each copy's state and each image's shares. */
  onOutcome(change: OutcomeChange): void;
  /** A sync job: its cutover request, the wait before its next pass, and its passes after each one. */
  cutover: Cutover;
  onWaiting(): void;
  onPass(passes: SyncPass[]): void;
  /** Throws JOB_FENCED once another runner holds the job (the lease check of WorkflowPorts.fence). */
  fence(): Promise<void>;
  /** Who holds the job's cloud task slots, as operators see it (the job and its agent). */
  holder?: string | undefined;
}

/** The job's cloud tasks take their slots from the fleet's semaphore with the configured caps. */
function jobSlots(ctx: RunContext, run: JobRun): TaskSlots {
  return { semaphore: ctx.semaphore ?? processSemaphore(), caps: ctx.config.fleet.cloud_tasks, holder: run.holder ?? 'a job' };
}

/** The workflow ports of a job: its journal, the daemon's sink factory and cloud, and the job service as reporter. */
export function jobPorts(ctx: RunContext, run: JobRun, direction: Direction): WorkflowPorts {
  return {
    journal: run.journal,
    sinks: jobSinks(ctx, run, direction),
    cloud: {
      connections: connectionsFromConfig(ctx.config),
      poll: pollEvery(ctx.config.cloud.poll_seconds),
      cancelOnAbort: cancelTaskUnlessShutdown,
      onRetry: (code) => ctx.metrics.retries.inc({ reason: code }),
      slots: jobSlots(ctx, run),
    },
    reporter: {
      phase: (phase) => run.onPhase(phase),
      validated: (findings) => run.onValidated(findings),
      guest: (report) => run.onGuest(report),
      cloudTask: (s) => {
        ctx.metrics.cloudTaskUpdates.inc({ kind: s.kind, state: s.state });
        run.onCloudTask(s);
      },
      outcome: (change) => run.onOutcome(change),
    },
    progress: run.progress,
    signal: run.signal,
    fence: () => run.fence(),
  };
}

/**
 * Validates then runs a job. Uploads resume from their checkpoint when one exists (a restart after
 * a stop or a crash); downloads resume from theirs. Throws the transfer's typed error on failure.
 */
export async function runJob(job: JobRecord, ctx: RunContext, run: JobRun): Promise<JobResult> {
  await confineJobOutputs(job, ctx.config.output_roots);
  if (job.kind === 'export') return exportThenDownload(job, ctx, run);
  if (isEbsUrl(job.destination)) return ebsSnapshot(job, ctx, run);
  const direction: Direction = job.kind === 'download' ? 'download' : 'upload';
  const opened = await jobSinks(ctx, run, direction).open(job.kind === 'download' ? job.source : job.destination);
  await preflight(job, opened, run.signal);
  const plan = await preflightJobImport(job, ctx, run.signal, (report) => run.onGuest(report));
  run.onValidated(plan ? notErrors(plan.findings) : undefined);
  forwardPhases(job, run);
  meterProgress(run.progress, ctx, direction, opened.sink.kind);
  if (direction === 'download') return download(job, ctx, run);
  if (job.kind === 'sync') return sync(job, plan, ctx, run);
  return uploadJob(job, plan, ctx, run);
}

function notErrors(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity !== 'error');
}

/**
 * The cloud export (skipped when a restart finds it done), then the ranged, resumable download of its
 * objects, one per disk (agent/workflows/export.ts): a disk the journal names as finished, whose file is
 * still there with its size, is not fetched again.
 */
async function exportThenDownload(job: JobRecord, ctx: RunContext, run: JobRun): Promise<JobResult> {
  run.onValidated(notErrors(await preflightJobExport(job, ctx, run.signal)));
  const ports = jobPorts(ctx, run, 'download');
  forwardPhases({ ...job, kind: 'download' }, run);
  meterProgress(run.progress, ctx, 'download', job.export!.cloud === 'aws' ? 's3' : 'oss');
  const { exported, disks } = await exportWorkflow(
    {
      export: job.export!,
      destination: job.destination,
      download: async (disk, progress, sink) => downloadedResult(await exportDiskDownload(downloadSettings(job, ctx), run.signal)(disk, progress, sink)),
      knownSha256: (r) => r.outputSha256,
      checkpoints: downloadCheckpoints(ctx),
      converting: conversionTarget(job) !== undefined,
    },
    ports,
  );
  const [system, ...data] = disks;
  // docs/api.md "Export jobs": outputSha256 is each disk's file as written.
  const dataDisks = data.map((d) => ({ key: d.key, destination: d.destination, objectSize: d.result.objectSize, outputSha256: d.sha256 }));
  return { ...system!.result, outputSha256: system!.sha256, export: exported, ...(dataDisks.length ? { dataDisks } : {}) };
}

/** The sink factory of a job's runs: the daemon's configuration, `transfer.retries`, each part on the job's board and in the metrics. */
function jobSinks(ctx: RunContext, run: JobRun, direction: Direction): SinkFactory {
  const wrap = (sink: ObjectSink) => {
    const store = sink.kind;
    return observedSink(sink, {
      partStarted: (n, size) => run.parts.set(n, 'in-flight', size),
      partEnded: (_n, size, seconds, ok) => {
        ctx.metrics.partSeconds.observe({ direction, store }, seconds);
        if (ok) ctx.metrics.transferredBytes.inc({ direction, store }, size);
      },
      rangeFetched: (bytes, seconds) => {
        ctx.metrics.partSeconds.observe({ direction, store }, seconds);
        ctx.metrics.transferredBytes.inc({ direction, store }, bytes);
      },
    });
  };
  return sinkFactory(ctx.config, { retry: retryPolicy(ctx), wrap });
}

/** The checks a job passes before it counts as active: its source opens and its store answers. */
async function preflight(job: JobRecord, { sink, key }: OpenedSink, signal: AbortSignal): Promise<void> {
  if (job.kind === 'download') {
    if (!(await sink.head(key, signal))) throw vmxError(STORE.NO_SUCH_KEY, `object ${key} does not exist in ${sink.bucket}`);
    return;
  }
  await stat(job.source).catch((err) => {
    throw fsError(err, job.source);
  });
  if (job.format !== 'original') {
    const disk = await openDisk(job.source, { parent: job.options.parent, signal });
    await disk.close();
  }
  // Listing pending uploads proves the bucket exists and the credentials may write to it.
  await sink.listUploads(key, signal);
}

function forwardPhases(job: JobRecord, run: JobRun): void {
  const map: Partial<Record<Phase, JobPhase>> = {
    converting: 'converting',
    uploading: job.kind === 'convert' ? 'converting' : 'uploading',
    downloading: 'downloading',
    verifying: 'verifying',
  };
  run.progress.on('phase', (p) => {
    const phase = map[p];
    if (phase) run.onPhase(phase);
  });
}

/** Progress deltas into the read/written byte counters. */
function meterProgress(progress: ProgressTracker, ctx: RunContext, direction: Direction, store: string): void {
  let read = 0;
  let written = 0;
  progress.on('progress', (s) => {
    if (s.bytesRead > read) ctx.metrics.readBytes.inc({ direction, store }, s.bytesRead - read);
    if (s.bytesWritten > written) ctx.metrics.writtenBytes.inc({ direction, store }, s.bytesWritten - written);
    read = s.bytesRead;
    written = s.bytesWritten;
  });
}

/**
 * An upload job to ebs://REGION[/snap-PARENT] (agent/workflows/ebs-upload.ts): the EBS direct APIs write
 * the snapshot (resumed from its checkpoint after a restart), then the optional aws-image import of it.
 */
async function ebsSnapshot(job: JobRecord, ctx: RunContext, run: JobRun): Promise<JobResult> {
  await stat(job.source).catch((err) => {
    throw fsError(err, job.source);
  });
  run.onValidated();
  run.onPhase('uploading');
  const aws = connectionsFromConfig(ctx.config).aws;
  const endpoint = ctx.config.cloud.aws_endpoint || undefined;
  const retry = { attempts: ctx.config.cloud.retries, baseDelayMs: 500, maxDelayMs: 30_000, requestTimeoutMs: ctx.config.cloud.request_timeout_seconds * 1000 };
  // Job.cloudTask: the snapshot until it is completed (DescribeSnapshots), then the ImportImage task.
  const onStatus = (s: CloudTaskStatus) => run.onCloudTask(s);
  const checkpoints = ebsCheckpoints(ctx);
  const changed = await changeList(job.options);
  const r = await ebsUploadWorkflow(
    {
      upload: {
        source: job.source,
        destination: job.destination,
        parent: job.options.parent,
        connection: { endpoint, retry },
        concurrency: job.options.concurrency ?? 16,
        // A restart continues the job's own snapshot from its checkpoint, unless its change list was rewritten since.
        resume: ebsResume(await checkpoints.load(ebsCheckpointId(job.source, job.destination)).catch(() => undefined), changed),
        snapshot: { tags: job.options.tags },
        checkpoints,
        changed,
        onNote: (sentence: string) => process.stderr.write(`job ${job.id}: ${sentence}\n`),
      },
      import: job.import ? { options: job.import, region: aws?.region ?? parseEbsUrl(job.destination).region, endpoint } : undefined,
    },
    { journal: run.journal, poll: pollEvery(ctx.config.cloud.poll_seconds), onStatus, onRetry: (code) => ctx.metrics.retries.inc({ reason: code }), onImporting: () => run.onPhase('importing'), signal: run.signal, fence: () => run.fence(), slots: jobSlots(ctx, run) },
  );
  const s = r.snapshot;
  const { checksum, seconds, bytesSent, ...snapshot } = s;
  const result: JobResult = { etag: checksum, objectSize: s.volumeSizeGiB * 1024 ** 3, sourceSha256: null, outputSha256: null, seconds, bytesSent, snapshot: { ...snapshot, checksum } };
  return r.imported ? { ...result, import: importedResult(r.imported) } : result;
}

function ebsCheckpoints(ctx: RunContext): CheckpointStore<EbsCheckpoint> {
  return ctx.ebsCheckpoints ?? new FileCheckpointStore<EbsCheckpoint>(join(ctx.config.state_dir, 'checkpoints'), isEbsCheckpoint);
}

/**
 * A sync job (agent/workflows/sync.ts): incremental passes, each recorded on the job; the job waits
 * between them, and after a cutover the final pass runs the import.
 */
async function sync(job: JobRecord, plan: UploadImportPlan | undefined, ctx: RunContext, run: JobRun): Promise<JobResult> {
  const ports = jobPorts(ctx, run, 'upload');
  const { last } = await syncWorkflow(
    {
      schedule: { everyMs: job.sync?.everyMs, passes: job.sync?.passes },
      cutover: run.cutover,
      pass: async (_n, final, journal) => {
        run.onPhase('uploading');
        const before = run.progress.snapshot().bytesRead;
        const r = await upload(job, final ? plan : undefined, ctx, run, journal);
        const after = run.progress.snapshot().bytesRead;
        // A change-list pass reads at random, outside the progress tracker's count; its report says what it read.
        const listRead = (r.upload as Partial<IncrementalResult>).incremental?.bytesRead;
        const counts = { bytesRead: listRead ?? (after >= before ? after - before : after), bytesSent: r.upload.bytesSent, partsSent: r.upload.partsSent, partsCopied: r.upload.partsCopied };
        return { result: r, counts };
      },
      onPass: (_p, all) => run.onPass(all),
      onWait: () => run.onWaiting(),
    },
    ports,
  );
  return jobResult(last!);
}

/** An upload or convert job, and the import, copies and shares that follow it (agent/workflows/upload.ts). */
async function uploadJob(job: JobRecord, plan: UploadImportPlan | undefined, ctx: RunContext, run: JobRun): Promise<JobResult> {
  return jobResult(await upload(job, plan, ctx, run, run.journal));
}

function jobResult(r: UploadWorkflowResult): JobResult {
  const uploaded = uploadedResult(r.upload);
  if (!r.imported) return uploaded;
  const imported = importedResult(r.imported);
  return { ...uploaded, import: r.distributed ? { ...imported, ...r.distributed } : imported };
}

async function upload(job: JobRecord, plan: UploadImportPlan | undefined, ctx: RunContext, run: JobRun, journal: StepJournal): Promise<UploadWorkflowResult> {
  const o = job.options;
  const t = ctx.config.transfer;
  const transfer = {
    source: job.source,
    destination: job.destination,
    as: plan?.as ?? job.format,
    parent: o.parent,
    partSize: o.partSize ?? (t.part_size === 'auto' ? undefined : t.part_size),
    concurrency: o.concurrency ?? t.concurrency,
    // A restart continues the job's own checkpoint; one another job left (other options) is replaced, never fatal.
    resume: 'if-compatible' as const,
    digest: o.sha256 ? ('sha256' as const) : undefined,
    onNote: (sentence: string) => process.stderr.write(`job ${job.id}: ${sentence}\n`),
    checkpoints: ctx.checkpoints,
    uploadOptions: { storageClass: o.storageClass, encryption: o.encryption, tags: o.tags, metadata: o.metadata },
    bandwidth: ctx.bandwidth,
    pool: ctx.pool,
    chunkBytes: ctx.config.pipeline.chunk_size,
    onPart: (e: PartEvent) => onPart(e, run, ctx),
  };
  const incremental = o.incremental ? { warn: (w: string) => process.stderr.write(`job ${job.id}: warning: ${w}\n`), changed: await changeList(o) } : undefined;
  const r = await uploadWorkflow({ transfer, incremental, import: plan && { options: job.import!, plan } }, { ...jobPorts(ctx, run, 'upload'), journal });
  if (r.upload.partSize) run.parts.partSize = r.upload.partSize;
  return r;
}

/** An EBS checkpoint is continued when it read the same change list (or none, as now); one of another list is started again. */
function ebsResume(cp: EbsCheckpoint | undefined, changed: ChangedExtentList | undefined): boolean | 'restart' {
  if (!cp) return false;
  return cp.changeList === (changed && changeListId(changed)) ? true : 'restart';
}

/** options.changedBlocks read afresh (each pass of a sync job reads the list as it is then). */
function changeList(o: JobOptions): Promise<ChangedExtentList | undefined> {
  return o.changedBlocks === undefined ? Promise.resolve(undefined) : readChangedExtentList(o.changedBlocks);
}

/** The job's result of an upload (a record written before `steps` kept this shape as `uploaded`). */
function uploadedResult(r: Pick<UploadResult, 'etag' | 'objectSize' | 'seconds'> & Partial<Pick<UploadResult, 'partsSent' | 'partsCopied' | 'bytesSent'>> & Partial<Record<'sourceDigest' | 'outputDigest' | 'sourceSha256' | 'outputSha256', string | null>>): JobResult {
  return {
    etag: r.etag,
    objectSize: r.objectSize,
    sourceDigest: r.sourceDigest ?? null,
    outputDigest: r.outputDigest ?? null,
    sourceSha256: r.sourceSha256 ?? null,
    outputSha256: r.outputSha256 ?? null,
    seconds: r.seconds,
    partsSent: r.partsSent,
    partsCopied: r.partsCopied,
    bytesSent: r.bytesSent,
  };
}

/** docs/api.md result.import: the ids, without the cloud's final task statuses. */
export function importedResult(r: ImportStepResult | ImportedResult): ImportedResult {
  return { target: r.target, taskIds: r.taskIds, resourceIds: r.resourceIds, ...(r.imageId ? { imageId: r.imageId, imageTaskId: r.imageTaskId } : {}) };
}

function onPart(e: PartEvent, run: JobRun, ctx: RunContext): void {
  run.parts.set(e.partNumber, e.state === 'sent' || e.state === 'copied' ? 'done' : e.state, e.size);
  ctx.metrics.parts.inc({ result: e.state });
}

/** The writer target a download or export job converts to; `original` keeps the object's bytes. */
function conversionTarget(job: JobRecord): string | undefined {
  return job.format === 'original' ? undefined : job.format;
}

/**
 * A download job (agent/workflows/download.ts): parallel ranged GETs into a partial file, resumed from
 * its checkpoint after a restart; with a `format`, converted on the way.
 */
async function download(job: JobRecord, ctx: RunContext, run: JobRun): Promise<JobResult> {
  const r = await downloadWorkflow({ ...downloadSettings(job, ctx), url: job.source, destination: job.destination, resume: 'if-checkpointed' }, jobPorts(ctx, run, 'download'));
  return downloadedResult(r);
}

/** A download's settings: the job's options over the daemon's `transfer` section, its shared bandwidth. */
function downloadSettings(job: JobRecord, ctx: RunContext): DownloadSettings {
  const ps = job.options.partSize ?? ctx.config.transfer.part_size;
  return {
    to: conversionTarget(job),
    disk: job.options.disk,
    rangeSize: ps === 'auto' ? undefined : ps,
    concurrency: job.options.concurrency ?? ctx.config.transfer.concurrency,
    checkpoints: downloadCheckpoints(ctx),
    bandwidth: ctx.bandwidth,
  };
}

function downloadedResult(r: DownloadResult): JobResult {
  return {
    etag: `verified by ${r.verified}`,
    objectSize: r.objectSize,
    sourceSha256: null,
    // The file written: a conversion's output, or the copy checked against the object's digest tag.
    outputDigest: r.conversion?.outputDigest ?? r.digestVerified ?? null,
    outputSha256: downloadedSha256(r) ?? null,
    seconds: r.seconds,
    ...(r.conversion ? { conversion: r.conversion } : {}),
  };
}

function downloadCheckpoints(ctx: RunContext): FileCheckpointStore<DownloadCheckpoint> {
  return new FileCheckpointStore<DownloadCheckpoint>(join(ctx.config.state_dir, 'downloads'), isDownloadCheckpoint, ctx.metrics.onCheckpointSave('download'));
}

/**
 * After a cancel: aborts the multipart upload the job's checkpoint names (the store frees its
 * parts) and forgets the checkpoint. A download loses its partial file and checkpoint; an export,
 * those of every disk and the files of the disks that had finished (docs/api.md "Export jobs").
 */
export async function cleanupCancelled(job: JobRecord, ctx: RunContext): Promise<void> {
  const converting = conversionTarget(job) !== undefined;
  if (job.kind === 'export') {
    const steps = stepsOf(job);
    const exported = steps[STEP.exported] as ExportedObject | undefined;
    const finished = (steps[STEP.disksDownloaded] as FinishedDisk<JobResult>[] | undefined) ?? [];
    if (exported) await discardDisks(exportDisks(job.export!.cloud, exported, job.destination), finished, converting, downloadCheckpoints(ctx));
    return;
  }
  if (job.kind === 'download') return discardDownload(job.source, job.destination, converting, downloadCheckpoints(ctx));
  // EBS discards a pending snapshot after its timeout; the job's checkpoint goes, so a new job starts afresh.
  if (isEbsUrl(job.destination)) return ebsCheckpoints(ctx).delete(ebsCheckpointId(job.source, job.destination));
  const id = checkpointId(job.source, job.destination);
  const cp = await ctx.checkpoints.load(id).catch(() => undefined);
  if (!cp) return;
  const { sink, key } = await sinkFactory(ctx.config, { retry: retryPolicy(ctx) }).open(job.destination);
  await sink.abortUpload(key, cp.uploadId);
  await ctx.checkpoints.delete(id);
}
