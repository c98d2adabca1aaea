import { stat } from 'node:fs/promises';
import { reconcileWithStore } from './reconcile-parts.js';
import { basename } from 'node:path';
import pLimit from 'p-limit';
import { vmxError, InternalError, VmxferError } from '../core/errors.js';
import { encoderOf, encoderOptions, identityOf, identityText, imageIdentity } from './image-identity.js';
import { abortStale, discardCheckpoint, earlierUpload, isIncompatible } from './stale-checkpoint.js';
import { CORE } from '../core/error-codes.js';
import { ProgressTracker } from '../core/progress.js';
import { throwIfAborted } from '../core/abort.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ObjectSink, PartRef, UploadOptions } from '../sinks/object-sink.js';
import type { TokenBucket } from '../sinks/token-bucket.js';
import { throttledSink } from '../sinks/throttled-sink.js';
import { TRANSFER } from './error-codes.js';
import { choosePartSize } from './part-sizing.js';
import type { CutPart } from './part-cutter.js';
import { checkpointPart, samePartBytes, sentChecksum } from './part-record.js';
import { sendPart } from './send-part.js';
import { confirmAllParts, opaqueEtags } from './upload-verify.js';
import { completeOrConfirm, type CompletedObject } from './complete-upload.js';
import { checkpointId, type CheckpointPart, type UploadCheckpoint } from './upload-checkpoint.js';
import { openUploadSource, type UploadSource } from './upload-source.js';
import { fsError } from '../io/random-access-file.js';
import type { WorkerPool } from '../pipeline/worker-pool.js';
import { ChunkFingerprinter } from '../hashing/fingerprint.js';
import { allocAligned } from '../io/aligned-buffer.js';
import { checkUserTags, integrityTags } from './object-tags.js';
import { sha256Hex, type DigestKind } from '../hashing/content-digest.js';

export interface UploadRequest {
  source: string;
  /** The destination URL as given (used for the checkpoint identity). */
  destination: string;
  key: string;
  sink: ObjectSink;
  /** A --to target (vmdk, vhd, qcow2, raw, ...) or 'original' for the file's bytes unchanged. */
  as: string;
  from?: string | undefined;
  parent?: string | undefined;
  partSize?: number | undefined;
  concurrency: number;
  /**
   * true: continue the checkpoint's upload (none is an error); false: start afresh, refused
   * (XFER_CHECKPOINT_EXISTS) when a checkpoint exists; 'restart': abort the checkpoint's upload at the
   * store, if any, and start afresh;
   * 'if-compatible': continue it when it belongs to this job (same source, options and encoder),
   * otherwise abort its upload, replace it and start afresh (the daemon after a restart).
   */
  resume: boolean | 'if-compatible' | 'restart';
  /** The digest kind of the integrity tags and result (docs/integrity.md); default sha256-linear-512k. */
  digest?: DigestKind | undefined;
  /** A sentence worth telling the user (a checkpoint replaced). */
  onNote?: ((sentence: string) => void) | undefined;
  checkpoints: CheckpointStore<UploadCheckpoint>;
  uploadOptions?: UploadOptions | undefined;
  bandwidth?: TokenBucket | undefined;
  /** Worker pool for conversion; inline when absent. */
  pool?: WorkerPool | undefined;
  /** Bytes of disk per pool task (default: the writer's own). */
  chunkBytes?: number | undefined;
  signal?: AbortSignal | undefined;
  progress?: ProgressTracker | undefined;
  onPart?: ((e: PartEvent) => void) | undefined;
  /** Called when the store reports a part corrupted in transit (BadDigest), before it is sent again. */
  onCorruptedPart?: ((attempt: number, err: unknown) => void) | undefined;
  /** Makes unchanged parts server-side from the object already at the key (an incremental upload). */
  partCopier?: PartCopier | undefined;
  /** Called right before CompleteMultipartUpload; throwing stops the upload uncompleted (WorkflowPorts.fence). */
  beforeComplete?: (() => Promise<void>) | undefined;
}

/** Decides, per part, whether the store can make it from the object it already holds (agent/incremental). */
export interface PartCopier {
  /** Sees every part of the output once per run, whatever becomes of it (sent, copied, or confirmed earlier). */
  record(partNumber: number, body: Buffer): void;
  /** The store's ETag of a part now confirmed in this upload (sent, copied, or confirmed before a resume). */
  confirmed(partNumber: number, etag: string): void;
  /** A ref when part `partNumber` was copied server-side and holds exactly `body`; undefined: send it. */
  copy(key: string, uploadId: string, partNumber: number, body: Buffer, signal: AbortSignal): Promise<PartRef | undefined>;
}

export interface PartEvent {
  partNumber: number;
  state: 'sent' | 'copied' | 'skipped' | 'failed';
  size: number;
  seconds: number;
}

export interface UploadResult {
  destination: string;
  key: string;
  uploadId: string;
  objectSize: number;
  parts: number;
  partSize: number;
  partsSent: number;
  partsSkipped: number;
  /** Parts the store made from the object it held (incremental uploads; 0 otherwise). */
  partsCopied: number;
  /** Body bytes of the parts sent in this run. */
  bytesSent: number;
  etag: string;
  /** What vouched for the finished object: the store's CRC-64, its multipart ETag, or only its size. */
  verified: 'crc64' | 'crc32c' | 'etag' | 'size';
  /** The source's and the object's digests, `<kind>:<hex>` (docs/integrity.md). */
  sourceDigest: string | undefined;
  outputDigest: string | undefined;
  /** Their hex when the kind is the full-content `sha256` (--sha256), else undefined. */
  sourceSha256: string | undefined;
  outputSha256: string | undefined;
  /** The tag set written after the object was verified (the user's tags plus vmxfer's digests). */
  tags: Record<string, string> | undefined;
  seconds: number;
}

/**
 * Converts a local image on the fly and uploads it as a multipart object: parts in parallel,
 * a checkpoint after each confirmed part, only missing parts sent on resume, and the finished
 * object's checksum compared with the local one before success is reported.
 */
export async function uploadImage(request: UploadRequest): Promise<UploadResult> {
  const started = performance.now();
  // --bwlimit is a decorator around the sink like retry and metrics.
  const req = { ...request, sink: throttledSink(request.sink, request.bandwidth) };
  const progress = req.progress ?? new ProgressTracker();
  progress.phase('opening');
  const st = await stat(req.source).catch((err) => {
    throw fsError(err, req.source);
  });
  checkUserTags(req.uploadOptions?.tags);
  const id = checkpointId(req.source, req.destination);
  const overwritten = await earlierUpload(req, id);
  const onStall = (stalled: boolean) => progress.stalled(stalled);
  req.sink.stalls?.on('change', onStall);
  const source = { path: req.source, size: st.size, mtimeMs: st.mtimeMs };
  const found = await findCheckpoint(req, id);
  let job: OpenedJob;
  try {
    job = await openJobOrReplace(req, id, source, found, progress);
  } catch (err) {
    req.sink.stalls?.off('change', onStall);
    throw err;
  }
  if (overwritten) {
    req.onNote?.(`started afresh (--restart); the earlier upload ${overwritten.uploadId} of ${req.source} -> ${req.destination} was ${await abortStale(req, overwritten)}`);
  }
  const { src, cp, partSize, completed } = job;
  try {
    progress.phase('uploading');
    // An upload completed before a kill regenerates every part only to prove it and to hash it for the tags.
    const state = await sendParts(req, cp, src, partSize, progress);
    progress.phase('verifying');
    const { info, verified } = completed ?? (await finish(req, cp, state.parts));
    const outputDigest = src.patchableHead > 0 ? undefined : state.outputDigest;
    // HashingSource.digest() finalizes its hash: read it once.
    const sourceDigest = await src.sourceDigest();
    const tags = integrityTags(req.uploadOptions?.tags, outputDigest, sourceDigest);
    // Only now are the SHA-256s known and the object verified; metadata was fixed at create.
    if (tags) await req.sink.putTags(req.key, tags, req.signal);
    await req.checkpoints.delete(id);
    progress.phase('done');
    return {
      destination: req.destination,
      key: req.key,
      uploadId: cp.uploadId,
      objectSize: info.size,
      parts: state.parts.length,
      partSize,
      partsSent: state.sent,
      partsSkipped: state.skipped,
      partsCopied: state.copied,
      bytesSent: state.bytesSent,
      etag: info.etag,
      verified,
      sourceDigest,
      outputDigest,
      sourceSha256: sha256Hex(sourceDigest),
      outputSha256: sha256Hex(outputDigest),
      tags,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    req.sink.stalls?.off('change', onStall);
    progress.stalled(false);
    await src.close();
  }
}

/** With 'if-compatible', a checkpoint that belongs to another job is replaced instead of failing this one. */
async function openJobOrReplace(req: UploadRequest, id: string, source: UploadCheckpoint['source'], found: UploadCheckpoint | undefined, progress: ProgressTracker): Promise<OpenedJob> {
  try {
    return await openJob(req, id, source, found, progress);
  } catch (err) {
    if (!found || req.resume !== 'if-compatible' || !isIncompatible(err)) throw err;
    await discardCheckpoint(req, found, (err as Error).message);
    return openJob(req, id, source, undefined, progress);
  }
}

interface OpenedJob {
  src: UploadSource;
  cp: UploadCheckpoint;
  partSize: number;
  /** Set when the store already holds the object this checkpoint's upload completed. */
  completed?: CompletedObject;
}

/**
 * Opens the source with the identity and encoder of `prior` (a resume) or new ones, chooses the part
 * size, then reconciles `prior` with the store or begins a new upload. Nothing is created at the
 * store before the part size and the encoder are known to work.
 */
async function openJob(req: UploadRequest, id: string, source: UploadCheckpoint['source'], prior: UploadCheckpoint | undefined, progress: ProgressTracker): Promise<OpenedJob> {
  const identity = prior ? identityOf(prior) : imageIdentity(source, req);
  const src = await openUploadSource(
    req.source,
    req.as,
    {
      from: req.from,
      parent: req.parent,
      identity,
      encoder: prior ? encoderOf(prior) : undefined,
      signal: req.signal,
      pool: req.pool,
      chunkBytes: req.chunkBytes,
      fingerprinter: await ChunkFingerprinter.create('xxh64'),
      priorFingerprints: prior?.source.fingerprints,
      digest: req.digest,
    },
    progress,
  );
  try {
    const partSize = choosePartSize(src.maxOutputSize, req.sink.limits, req.partSize);
    if (src.patchableHead > partSize) throw new InternalError(CORE.INTERNAL, `writer head ${src.patchableHead} exceeds part size ${partSize}`);
    const options = { as: req.as, partSize, ...encoderOptions(src.encoder) };
    const { cp, completed } = prior ? await reconcile(req, prior, source, options) : { cp: await begin(req, id, source, { ...options, identity: identityText(identity) }), completed: undefined };
    return { src, cp, partSize, completed };
  } catch (err) {
    await src.close();
    throw err;
  }
}

/** The checkpoint to resume: required with --resume, looked for with 'if-compatible', ignored otherwise. */
async function findCheckpoint(req: UploadRequest, id: string): Promise<UploadCheckpoint | undefined> {
  if (req.resume === false || req.resume === 'restart') return undefined;
  if (req.resume === true) return loadForResume(req, id);
  try {
    return await req.checkpoints.load(id);
  } catch (err) {
    if (!(err instanceof VmxferError) || err.code !== TRANSFER.CHECKPOINT_CORRUPT.code) throw err;
    req.onNote?.(`checkpoint ${id} for ${req.source} -> ${req.destination} is unreadable and is replaced: ${err.message}`);
    await req.checkpoints.delete(id);
    return undefined;
  }
}

async function begin(req: UploadRequest, id: string, source: UploadCheckpoint['source'], options: UploadCheckpoint['options']) {
  const metadata = {
    'vmxfer-source': basename(req.source),
    'vmxfer-format': req.as,
    // Lets a download recompute the multipart ETag (the MD5 of each part's MD5) from ranges of this size.
    'vmxfer-part-size': String(options.partSize),
    ...(req.uploadOptions?.metadata ?? {}),
  };
  const uploadId = await req.sink.createUpload(req.key, { ...req.uploadOptions, metadata }, req.signal);
  const cp: UploadCheckpoint = { id, version: 1, destination: req.destination, uploadId, source, options, parts: [], updatedAt: new Date().toISOString() };
  await req.checkpoints.save(cp);
  return cp;
}

async function loadForResume(req: UploadRequest, id: string): Promise<UploadCheckpoint> {
  const cp = await req.checkpoints.load(id);
  if (!cp) throw vmxError(TRANSFER.NO_CHECKPOINT, `no checkpoint for ${req.source} -> ${req.destination}; start without --resume`);
  return cp;
}

/**
 * Refuses a changed source or options, and keeps only the parts the store's ListParts confirms.
 * An upload the store no longer knows may have completed before the run was killed (while tagging):
 * when the object there is the one the checkpoint's parts make, it is taken as completed.
 */
async function reconcile(req: UploadRequest, cp: UploadCheckpoint, source: UploadCheckpoint['source'], options: UploadCheckpoint['options']): Promise<{ cp: UploadCheckpoint; completed: CompletedObject | undefined }> {
  if (cp.source.size !== source.size || cp.source.mtimeMs !== source.mtimeMs) {
    throw vmxError(TRANSFER.RESUME_MISMATCH, `the source changed since the upload started (size/mtime ${cp.source.size}/${cp.source.mtimeMs} now ${source.size}/${source.mtimeMs})`, { file: req.source });
  }
  for (const [k, v] of Object.entries(options)) {
    if (cp.options[k] !== v) throw vmxError(TRANSFER.RESUME_MISMATCH, `option ${k} was ${String(cp.options[k])} when the upload started, now ${String(v)}`, { file: req.source });
  }
  checkSameChecksum(req, cp);
  return reconcileWithStore(req, cp);
}

/**
 * One multipart upload takes one part checksum (S3 refuses parts whose algorithm is not the one
 * CreateMultipartUpload declared), so a resume must send what the confirmed parts were sent with.
 */
function checkSameChecksum(req: UploadRequest, cp: UploadCheckpoint): void {
  const sent = sentChecksum(cp.parts);
  const now = req.sink.capabilities.partChecksum;
  if (sent === undefined || sent === now) return;
  const flag = sent === 'crc64ecma' ? '' : ` (--store-checksum ${sent})`;
  throw vmxError(TRANSFER.RESUME_MISMATCH, `the ${cp.parts.length} confirmed part(s) were sent with ${sent} checksums and the store is now set to ${now}: resume with the checksum the upload started with${flag}`, { file: req.source });
}

interface SendState {
  parts: CheckpointPart[];
  sent: number;
  skipped: number;
  copied: number;
  bytesSent: number;
  /** The output's digest (`<kind>:<hex>`) when its bytes streamed in order (no head patch). */
  outputDigest: string | undefined;
}

async function sendParts(req: UploadRequest, cp: UploadCheckpoint, src: UploadSource, partSize: number, progress: ProgressTracker): Promise<SendState> {
  const bufferBytes = Math.min(partSize, Math.max(src.maxOutputSize, 1));
  const confirmed = new Map(cp.parts.map((p) => [p.partNumber, p]));
  const done = new Map<number, CheckpointPart>();
  const state: SendState = { parts: [], sent: 0, skipped: 0, copied: 0, bytesSent: 0, outputDigest: undefined };
  const pool: Buffer[] = [];
  const limit = pLimit(req.concurrency);
  const inner = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, inner.signal]) : inner.signal;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const send = async (part: CutPart) => {
    const t0 = performance.now();
    const prior = confirmed.get(part.partNumber);
    req.partCopier?.record(part.partNumber, part.body);
    try {
      // A checksum is computed here only to compare with a confirmed part; otherwise the one the
      // sink sent with the part (PartRef.checksums) is recorded rather than hashing twice.
      if (prior && samePartBytes(prior, part.body)) {
        done.set(part.partNumber, prior);
        req.partCopier?.confirmed(part.partNumber, prior.etag);
        state.skipped++;
        progress.confirmed(part.body.length);
        req.onPart?.({ partNumber: part.partNumber, state: 'skipped', size: part.body.length, seconds: 0 });
        return;
      }
      if (prior) {
        const range = `output bytes [${part.offset}, ${part.offset + part.body.length})`;
        throw vmxError(TRANSFER.RESUME_MISMATCH, `part ${part.partNumber} (${range}) regenerated with different bytes than the confirmed part: the source changed`, { file: req.source });
      }
      const copied = await req.partCopier?.copy(req.key, cp.uploadId, part.partNumber, part.body, signal);
      const ref: PartRef = copied ?? (await sendPart(req.sink, req.key, cp.uploadId, part.partNumber, part.body, signal, req.onCorruptedPart));
      const entry = checkpointPart(req.sink, ref, part.body);
      done.set(part.partNumber, entry);
      req.partCopier?.confirmed(part.partNumber, ref.etag);
      if (copied) {
        state.copied++;
      } else {
        state.sent++;
        state.bytesSent += part.body.length;
        progress.wrote(part.body.length);
      }
      progress.confirmed(part.body.length);
      cp.parts = [...done.values()].sort((a, b) => a.partNumber - b.partNumber);
      cp.source = { ...cp.source, fingerprints: src.fingerprints() };
      cp.updatedAt = new Date().toISOString();
      await req.checkpoints.save({ ...cp, parts: cp.parts });
      req.onPart?.({ partNumber: part.partNumber, state: copied ? 'copied' : 'sent', size: part.body.length, seconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      req.onPart?.({ partNumber: part.partNumber, state: 'failed', size: part.body.length, seconds: (performance.now() - t0) / 1000 });
      throw err;
    } finally {
      pool.push(part.body.buffer.byteLength >= bufferBytes ? Buffer.from(part.body.buffer, part.body.byteOffset, bufferBytes) : part.body);
    }
  };

  // Page-aligned part buffers: a passthrough upload reads the file straight into them. No part is
  // longer than the whole output, so a large --part-size costs no more memory than the output.
  const acquire = async () => pool.pop() ?? allocAligned(bufferBytes);
  const hashOut = src.output.hasher;
  progress.uploading(src.maxOutputSize, partSize);
  try {
    for await (const part of src.output.parts(partSize, acquire, src.patchableHead > 0, signal)) {
      progress.produced(part.body.length);
      while (inFlight.size >= req.concurrency && !failure) await Promise.race(inFlight);
      if (failure) break;
      const p = limit(() => send(part)).catch((err) => {
        failure ??= err;
        inner.abort(err);
      });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    progress.outputComplete();
  } catch (err) {
    failure ??= err;
    inner.abort(err);
  }
  await Promise.allSettled(inFlight);
  if (failure) throw failure;
  throwIfAborted(req.signal);
  state.parts = [...done.values()].sort((a, b) => a.partNumber - b.partNumber);
  state.outputDigest = await hashOut?.();
  return state;
}

async function finish(req: UploadRequest, cp: UploadCheckpoint, parts: CheckpointPart[]): Promise<CompletedObject> {
  if (parts.length === 0) {
    // An empty output still needs one (empty) part to complete a multipart upload.
    const empty = Buffer.alloc(0);
    const ref = await sendPart(req.sink, req.key, cp.uploadId, 1, empty, req.signal);
    parts = [checkpointPart(req.sink, ref, empty)];
  }
  await confirmAllParts(req.sink, req.key, cp.uploadId, parts, req.signal);
  await req.beforeComplete?.();
  return completeOrConfirm(req.sink, req.key, cp.uploadId, parts, opaqueEtags(req.uploadOptions?.encryption?.algorithm), req.signal);
}

