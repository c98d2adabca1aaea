import { stat } from 'node:fs/promises';
import { ProgressTracker, type Phase } from '../core/progress.js';
import { openDisk } from '../formats/detect.js';
import { fsError } from '../io/random-access-file.js';
import { openSink, type OpenedSink } from '../sinks/open-sink.js';
import { vmxError } from '../core/errors.js';
import { STORE } from '../sinks/error-codes.js';
import { uploadImage, type PartEvent } from '../transfer/upload.js';
import { uploadIncremental } from '../incremental/incremental-upload.js';
import { checkpointId } from '../transfer/upload-checkpoint.js';
import { checkpointedPartial, downloadObject } from '../transfer/download.js';
import { downloadCheckpointId, isDownloadCheckpoint, type DownloadCheckpoint } from '../transfer/download-checkpoint.js';
import { FileCheckpointStore } from '../checkpoint/checkpoint-store.js';
import { join, resolve } from 'node:path';
import type { Direction } from '../metrics/agent-metrics.js';
import { observedSink } from './observed-sink.js';
import { confineJobOutputs } from './confine-job.js';
import type { PartBoard } from './part-board.js';
import { connectionFor, retryPolicy, type RunContext } from './run-context.js';
import type { ImportedResult, JobPhase, JobRecord, JobResult } from './job-types.js';
import { checkJobDistribute, distributeAfterImport, wantsDistribute, type DistributeHooks } from './distribute-after-import.js';
import { importAfterUpload, preflightJobImport, type ImportHooks } from './import-after-upload.js';
import type { UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { exportForJob, type ExportHooks } from './export-for-job.js';
import type { Finding } from '../cloud/preflight/finding.js';
import type { GuestReport } from '../guest/inspector.js';
import { preflightJobExport } from './export-job-preflight.js';
import { exportedObjectUrl } from '../cloud/export-options.js';
import { discardDisks, discardDownload, downloadDisks, exportDisks, type FinishedDisk } from '../cloud/tasks/export-disks.js';
import type { ExportedObject } from '../cloud/tasks/export-task.js';

/** One run of one job: its progress, its parts and the signal that stops it. */
export interface JobRun extends ImportHooks, ExportHooks, DistributeHooks {
  progress: ProgressTracker;
  parts: PartBoard;
  signal: AbortSignal;
  onPhase(phase: JobPhase): void;
  /** The job passed its checks; `findings` are the preflight's repairs and warnings (never errors). */
  onValidated(findings?: Finding[]): void;
  /** What the guest inspection of an import job found (docs/api.md Job.guest), before its rules judge it. */
  onGuest(report: GuestReport): void;
  /** Resolves once the finished upload is durable in the job record (an import follows). */
  onUploaded(result: JobResult): Promise<void>;
  /** Resolves once the finished export's object is durable in the job record (the download follows). */
  onExported(exported: ExportedObject): Promise<void>;
  /** Resolves once a finished disk of an export is durable in the job record (a restart skips it). */
  onDiskDownloaded(disk: FinishedDisk<JobResult>): Promise<void>;
}


/**
 * Validates then runs a job. Uploads resume from their checkpoint when one exists (a restart after
 * a stop or a crash); downloads resume from theirs. Throws the transfer's typed error on failure.
 */
export async function runJob(job: JobRecord, ctx: RunContext, run: JobRun): Promise<JobResult> {
  await confineJobOutputs(job, ctx.config.output_roots);
  if (job.kind === 'export') return exportThenDownload(job, ctx, run);
  const direction: Direction = job.kind === 'download' ? 'download' : 'upload';
  const opened = await openJobSink(job, ctx, run, direction);
  await preflight(job, opened, run.signal);
  const plan = await preflightJobImport(job, ctx, run.signal, (report) => run.onGuest(report));
  checkJobDistribute(job, ctx);
  run.onValidated(plan ? notErrors(plan.findings) : undefined);
  forwardPhases(job, run);
  meterProgress(run.progress, ctx, direction, opened.sink.kind);
  if (direction === 'download') return download(job, ctx, run, opened);
  return plan ? uploadThenImport(job, plan, ctx, run, opened) : upload(job, ctx, run, opened);
}

function notErrors(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity !== 'error');
}

/** The object an export job downloads: the export's object as a download job reads it. */
function downloadOfExport(job: JobRecord, exported: ExportedObject): JobRecord {
  return { ...job, kind: 'download', source: exportedObjectUrl(job.export!.cloud, exported.bucket, exported.key) };
}

/**
 * The cloud export (skipped when a restart finds it done), then the ranged, resumable download of its
 * objects, one per disk (export-disks.ts): a disk the record names as finished, whose file is still
 * there with its size, is not fetched again, and each disk is recorded as soon as it finishes.
 */
async function exportThenDownload(job: JobRecord, ctx: RunContext, run: JobRun): Promise<JobResult> {
  run.onValidated(notErrors(await preflightJobExport(job, ctx, run.signal)));
  const exported = job.exported ?? (await exportForJob(job, ctx, run));
  if (!job.exported) await run.onExported(exported);
  const dl = downloadOfExport(job, exported);
  const opened = await openJobSink(dl, ctx, run, 'download');
  run.onPhase('downloading');
  forwardPhases(dl, run);
  meterProgress(run.progress, ctx, 'download', opened.sink.kind);
  const [system, ...data] = await downloadDisks({
    disks: exportDisks(job.export!.cloud, exported, job.destination),
    finished: job.downloadedDisks,
    sink: opened.sink,
    progress: run.progress,
    download: (disk, progress) => download({ ...dl, source: disk.url, destination: disk.destination }, ctx, { ...run, progress }, { ...opened, key: disk.key }),
    knownSha256: (r) => r.outputSha256,
    onFinished: (disk) => run.onDiskDownloaded(disk),
    signal: run.signal,
  });
  // docs/api.md "Export jobs": outputSha256 is each disk's file as written.
  const dataDisks = data.map((d) => ({ key: d.key, destination: d.destination, objectSize: d.result.objectSize, outputSha256: d.sha256 }));
  return { ...system!.result, outputSha256: system!.sha256, export: exported, ...(dataDisks.length ? { dataDisks } : {}) };
}

/** The upload (skipped when a restart finds it done), then the import of the stored object. */
async function uploadThenImport(job: JobRecord, plan: UploadImportPlan, ctx: RunContext, run: JobRun, opened: OpenedSink): Promise<JobResult> {
  const uploaded = job.uploaded ?? (await upload(job, ctx, run, opened, plan.as));
  if (!job.uploaded) await run.onUploaded(uploaded);
  const imported = job.imported ?? (await importOnce(job, plan, ctx, run));
  const distributed = await distributeAfterImport(job, imported, ctx, run);
  return { ...uploaded, import: distributed ? { ...imported, ...distributed } : imported };
}

/** The import; its result is made durable when copies or shares follow it. */
async function importOnce(job: JobRecord, plan: UploadImportPlan, ctx: RunContext, run: JobRun): Promise<ImportedResult> {
  run.onPhase('importing');
  const r = await importAfterUpload(job, plan, ctx, run);
  const imported = { target: r.target, taskIds: r.taskIds, resourceIds: r.resourceIds, ...(r.imageId ? { imageId: r.imageId, imageTaskId: r.imageTaskId } : {}) };
  if (wantsDistribute(job.import)) await run.onImported(imported);
  return imported;
}

async function openJobSink(job: JobRecord, ctx: RunContext, run: JobRun, direction: Direction): Promise<OpenedSink> {
  const url = job.kind === 'download' ? job.source : job.destination;
  const { sink, key } = await openSink(url, connectionFor(url, ctx.config), retryPolicy(ctx));
  const store = sink.kind;
  const observed = observedSink(sink, {
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
  return { sink: observed, key };
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

async function upload(job: JobRecord, ctx: RunContext, run: JobRun, opened: OpenedSink, as = job.format): Promise<JobResult> {
  const o = job.options;
  const t = ctx.config.transfer;
  const send = o.incremental ? (r: Parameters<typeof uploadImage>[0]) => uploadIncremental(r, (w) => process.stderr.write(`job ${job.id}: warning: ${w}\n`)) : uploadImage;
  const r = await send({
    source: job.source,
    destination: job.destination,
    key: opened.key,
    sink: opened.sink,
    as,
    parent: o.parent,
    partSize: o.partSize ?? (t.part_size === 'auto' ? undefined : t.part_size),
    concurrency: o.concurrency ?? t.concurrency,
    // A restart continues the job's own checkpoint; one another job left (other options) is replaced, never fatal.
    resume: 'if-compatible',
    digest: o.sha256 ? 'sha256' : undefined,
    onNote: (sentence) => process.stderr.write(`job ${job.id}: ${sentence}\n`),
    checkpoints: ctx.checkpoints,
    uploadOptions: { storageClass: o.storageClass, encryption: o.encryption, tags: o.tags, metadata: o.metadata },
    bandwidth: ctx.bandwidth,
    pool: ctx.pool,
    chunkBytes: ctx.config.pipeline.chunk_size,
    signal: run.signal,
    progress: run.progress,
    onPart: (e: PartEvent) => onPart(e, run, ctx),
  });
  run.parts.partSize = r.partSize;
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

function onPart(e: PartEvent, run: JobRun, ctx: RunContext): void {
  run.parts.set(e.partNumber, e.state === 'sent' || e.state === 'copied' ? 'done' : e.state, e.size);
  ctx.metrics.parts.inc({ result: e.state });
}

/** The writer target a download or export job converts to; `original` keeps the object's bytes. */
function conversionTarget(job: JobRecord): string | undefined {
  return job.format === 'original' ? undefined : job.format;
}

/**
 * A download job: parallel ranged GETs into a partial file, resumed from its checkpoint after a
 * restart; with a `format`, converted on the way (a format that needs seeks from a resumable local copy).
 */
async function download(job: JobRecord, ctx: RunContext, run: JobRun, opened: OpenedSink): Promise<JobResult> {
  const ps = job.options.partSize ?? ctx.config.transfer.part_size;
  const checkpoints = downloadCheckpoints(ctx);
  const destination = resolve(job.destination);
  const to = conversionTarget(job);
  const partial = checkpointedPartial(destination, to !== undefined);
  const resume = (await checkpoints.load(downloadCheckpointId(job.source, partial)).catch(() => undefined)) !== undefined;
  const r = await downloadObject({
    url: job.source,
    sink: opened.sink,
    key: opened.key,
    destination,
    to,
    disk: job.options.disk,
    rangeSize: ps === 'auto' ? undefined : ps,
    concurrency: job.options.concurrency ?? ctx.config.transfer.concurrency,
    resume,
    checkpoints,
    bandwidth: ctx.bandwidth,
    signal: run.signal,
    progress: run.progress,
  });
  return {
    etag: `verified by ${r.verified}`,
    objectSize: r.objectSize,
    sourceSha256: null,
    // The file written: a conversion's output, or the copy checked against the object's digest tag.
    outputDigest: r.conversion?.outputDigest ?? r.digestVerified ?? null,
    outputSha256: r.conversion?.outputSha256 ?? r.sha256Verified ?? null,
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
    if (job.exported) await discardDisks(exportDisks(job.export!.cloud, job.exported, job.destination), job.downloadedDisks ?? [], converting, downloadCheckpoints(ctx));
    return;
  }
  if (job.kind === 'download') return discardDownload(job.source, job.destination, converting, downloadCheckpoints(ctx));
  const id = checkpointId(job.source, job.destination);
  const cp = await ctx.checkpoints.load(id).catch(() => undefined);
  if (!cp) return;
  const { sink, key } = await openSink(job.destination, connectionFor(job.destination, ctx.config), retryPolicy(ctx));
  await sink.abortUpload(key, cp.uploadId);
  await ctx.checkpoints.delete(id);
}
