import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import pLimit from 'p-limit';
import { isVmxferError, vmxError } from '../core/errors.js';
import { detectFormat } from '../formats/detect.js';
import { fsError } from '../io/random-access-file.js';
import { STORE } from '../sinks/error-codes.js';
import { bareEtag, partMd5 } from '../sinks/part-rules.js';
import type { ObjectSink, PartRef } from '../sinks/object-sink.js';
import { completeOrConfirm } from '../transfer/complete-upload.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { integrityTags } from '../transfer/object-tags.js';
import { samePartBytes } from '../transfer/part-record.js';
import { sendPart } from '../transfer/send-part.js';
import type { UploadRequest } from '../transfer/upload.js';
import type { CheckpointPart, UploadCheckpoint } from '../transfer/upload-checkpoint.js';
import { blockDigests, objectDigest, partDigest } from './block-digests.js';
import { changedOptions, openChangedRun } from './changed-checkpoint.js';
import { openRandomReader, type RandomReader } from './random-reader.js';
import { changedParts, type ChangedExtentList } from './changed-blocks/extent-list.js';
import { INCR } from './error-codes.js';
import type { IncrementalManifest, ManifestPart } from './manifest.js';

/** Failures that mean the object is not the one the manifest describes. */
const STALE_SOURCE = new Set([STORE.PRECONDITION_FAILED.code, STORE.NO_SUCH_KEY.code, STORE.BAD_RANGE.code]);

export interface ChangedPassResult {
  uploadId: string;
  objectSize: number;
  etag: string;
  verified: 'crc64' | 'crc32c' | 'etag' | 'size';
  partSize: number;
  parts: ManifestPart[];
  partsCopied: number;
  partsSent: number;
  /** Parts confirmed by an earlier run of this pass (a resume) and not redone. */
  partsSkipped: number;
  bytesCopied: number;
  bytesSent: number;
  /** Source bytes read: only the parts the list touches (plus any an edited object forced). */
  bytesRead: number;
  /** The object's sha256-linear-512k digest, from the copied parts' recorded block digests and the sent parts' bytes; the source's too (a raw output is the disk). */
  digest: string;
  /** The tag set written after the object was verified. */
  tags: Record<string, string> | undefined;
}

/**
 * The sources a change-list pass can read at random, and the output it writes: the raw disk. A raw
 * file is read in place; a qcow2 image without a backing file through its L2 tables (Qcow2Disk.readAt).
 */
export async function checkChangedBlocksSource(req: UploadRequest): Promise<void> {
  const format = req.from ?? (await detectFormat(req.source)).name;
  if ((req.as === 'raw' || req.as === 'original') && format === 'raw') return;
  if (req.as === 'raw' && format === 'qcow2') return;
  throw vmxError(INCR.LAYOUT, `a changed-block pass reads only the changed ranges of a raw file or a qcow2 image and uploads them --as raw; this is a ${format} source uploaded as ${req.as}`, { file: req.source });
}

/**
 * An incremental pass that reads only the parts a change list touches: each of those is read,
 * hashed and sent; every other part is copied by the store from the object the manifest describes
 * without reading the source. Contract (docs/warm-migration.md): the list names every range written
 * since the source state the manifest's pass read. A copied part must come back with the ETag the
 * manifest recorded for it (the MD5 of the bytes it held), else the object was edited behind the
 * manifest: that part and every later one are read and sent instead.
 *
 * Like any upload it keeps a checkpoint (upload id, confirmed parts, the list's and the manifest's
 * identity) that a kill leaves for --resume, and tags the verified object with its digests: those of
 * the copied parts come from the manifest's block digests, so the whole source is never read.
 */
export async function uploadChangedParts(req: UploadRequest, manifest: IncrementalManifest, list: ChangedExtentList, warn: (s: string) => void): Promise<ChangedPassResult> {
  const file = await openRandomReader(req.source, req.from, req.signal);
  try {
    const size = file.size;
    if (list.virtualSize !== size || manifest.objectSize !== size) {
      throw vmxError(
        INCR.CHANGED_MISMATCH,
        `the change list describes a disk of ${list.virtualSize} bytes, the source has ${size} and the object the manifest describes ${manifest.objectSize}: the list is not relative to this object`,
        { file: req.source },
      );
    }
    const st = await stat(req.source).catch((err) => {
      throw fsError(err, req.source);
    });
    const partSize = manifest.partSize;
    const toRead = changedParts(list, partSize);
    const sink = req.sink;
    const metadata = { 'vmxfer-source': basename(req.source), 'vmxfer-format': req.as, 'vmxfer-part-size': String(partSize), ...(req.uploadOptions?.metadata ?? {}) };
    const source = { path: req.source, size: st.size, mtimeMs: st.mtimeMs };
    const run = await openChangedRun(req, changedOptions(req, manifest, list), source, () => sink.createUpload(req.key, { ...req.uploadOptions, metadata }, req.signal));
    const pass = new ChangedPass(req, sink, file, manifest, run.cp, warn);
    req.progress?.phase('uploading');
    req.progress?.uploading(size, partSize);
    const done = await allParts(req, Math.ceil(size / partSize), (n, signal) => pass.part(n, toRead.has(n), signal));
    req.progress?.phase('verifying');
    const parts = done.map((d) => d.checkpoint);
    if (!run.completed) await req.beforeComplete?.();
    const { info, verified } = run.completed ?? (await completeOrConfirm(sink, req.key, run.cp.uploadId, parts, false, req.signal));
    const digest = objectDigest(done.map((d) => Buffer.from(d.manifest.blocks, 'base64')));
    // A raw output is the virtual disk itself: the object's digest is the source's.
    const tags = integrityTags(req.uploadOptions?.tags, digest, digest);
    if (tags) await sink.putTags(req.key, tags, req.signal);
    await req.checkpoints.delete(run.cp.id);
    return { uploadId: run.cp.uploadId, objectSize: info.size, etag: info.etag, verified, partSize, parts: done.map((d) => d.manifest), ...pass.counts, digest, tags };
  } finally {
    await file.close();
  }
}

/**
 * Every part, `concurrency` at a time. The first failure stops the rest (the parts in flight are
 * aborted, none is started) and is thrown once they have settled, so no part or checkpoint save
 * outlives the pass: what the checkpoint holds then is what a resume continues from.
 */
async function allParts<T>(req: UploadRequest, count: number, part: (n: number, signal: AbortSignal) => Promise<T>): Promise<T[]> {
  const inner = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, inner.signal]) : inner.signal;
  const limit = pLimit(req.concurrency);
  let failure: unknown;
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      limit(async () => {
        signal.throwIfAborted();
        return part(i + 1, signal);
      }).catch((err: unknown) => {
        if (failure === undefined) {
          failure = err;
          inner.abort(err);
        }
        throw err;
      }),
    ),
  );
  if (failure !== undefined) throw failure;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

interface PartOutcome {
  checkpoint: CheckpointPart;
  manifest: ManifestPart;
}

class ChangedPass {
  counts = { partsCopied: 0, partsSent: 0, partsSkipped: 0, bytesCopied: 0, bytesSent: 0, bytesRead: 0 };
  private stopped = false;
  private readonly confirmed: Map<number, CheckpointPart>;

  constructor(
    private readonly req: UploadRequest,
    private readonly sink: ObjectSink,
    private readonly file: RandomReader,
    private readonly manifest: IncrementalManifest,
    private readonly cp: UploadCheckpoint,
    private readonly warn: (s: string) => void,
  ) {
    this.confirmed = new Map(cp.parts.map((p) => [p.partNumber, p]));
  }

  async part(n: number, changed: boolean, signal: AbortSignal): Promise<PartOutcome> {
    const t0 = performance.now();
    const before = this.manifest.parts[n - 1]!;
    const prior = this.confirmed.get(n);
    if (prior) return this.skip(n, prior, changed, before);
    let outcome = !changed && !this.stopped ? await this.copy(n, before, signal) : undefined;
    const state = outcome ? 'copied' : 'sent';
    outcome ??= await this.send(n, before.size, signal);
    this.confirmed.set(n, outcome.checkpoint);
    this.cp.parts = [...this.confirmed.values()].sort((a, b) => a.partNumber - b.partNumber);
    this.cp.updatedAt = new Date().toISOString();
    await this.req.checkpoints.save({ ...this.cp, parts: this.cp.parts });
    this.req.onPart?.({ partNumber: n, state, size: before.size, seconds: (performance.now() - t0) / 1000 });
    return outcome;
  }

  /**
   * A part an earlier run confirmed. One that holds the manifest's bytes (its ETag) keeps the
   * manifest's block digests; any other was sent from the source and is read again, to hash it and
   * to prove the source still has those bytes.
   */
  private async skip(n: number, prior: CheckpointPart, changed: boolean, before: ManifestPart): Promise<PartOutcome> {
    let blocks: Buffer;
    if (!changed && bareEtag(prior.etag) === bareEtag(before.etag)) {
      blocks = Buffer.from(before.blocks, 'base64');
    } else {
      const body = await this.read(n, prior.size);
      if (!samePartBytes(prior, body)) {
        throw vmxError(TRANSFER.RESUME_MISMATCH, `part ${n} (disk bytes [${(n - 1) * this.manifest.partSize}, ${(n - 1) * this.manifest.partSize + prior.size})) reads other bytes than the part confirmed before the interruption: the source changed`, { file: this.req.source });
      }
      blocks = blockDigests(body);
    }
    this.counts.partsSkipped++;
    this.req.progress?.confirmed(prior.size);
    this.req.onPart?.({ partNumber: n, state: 'skipped', size: prior.size, seconds: 0 });
    return { checkpoint: prior, manifest: { partNumber: n, size: prior.size, sha256: partDigest(blocks), blocks: blocks.toString('base64'), etag: bareEtag(prior.etag) } };
  }

  private async copy(n: number, before: ManifestPart, signal: AbortSignal): Promise<PartOutcome | undefined> {
    const start = (n - 1) * this.manifest.partSize;
    let ref: PartRef;
    try {
      ref = await this.sink.copyPart!(this.req.key, this.cp.uploadId, n, { key: this.manifest.key, start, end: start + before.size, ifMatch: this.manifest.objectEtag }, signal);
    } catch (err) {
      if (!isVmxferError(err) || !STALE_SOURCE.has(err.code)) throw err;
      this.stop(`copying part ${n} failed (${err.message}): the object changed since its manifest was written; the remaining parts are read and sent`);
      return undefined;
    }
    if (bareEtag(ref.etag) !== bareEtag(before.etag)) {
      // The part now holds other bytes; sending it replaces them under the same part number.
      this.stop(`the store copied part ${n} as ETag ${ref.etag}, not the manifest's ${before.etag}: the object was edited behind its manifest; the remaining parts are read and sent`);
      return undefined;
    }
    this.counts.partsCopied++;
    this.counts.bytesCopied += before.size;
    this.req.progress?.confirmed(before.size);
    const md5 = Buffer.from(bareEtag(before.etag), 'hex').toString('base64');
    return { checkpoint: { partNumber: n, etag: ref.etag, size: before.size, md5 }, manifest: { ...before, etag: bareEtag(ref.etag) } };
  }

  private async send(n: number, size: number, signal: AbortSignal): Promise<PartOutcome> {
    const body = await this.read(n, size);
    const blocks = blockDigests(body);
    const ref = await sendPart(this.sink, this.req.key, this.cp.uploadId, n, body, signal, this.req.onCorruptedPart);
    const md5 = partMd5(body);
    this.counts.partsSent++;
    this.counts.bytesSent += size;
    this.req.progress?.wrote(size);
    this.req.progress?.confirmed(size);
    return { checkpoint: { partNumber: n, etag: ref.etag, size, md5: md5.base64 }, manifest: { partNumber: n, size, sha256: partDigest(blocks), blocks: blocks.toString('base64'), etag: bareEtag(ref.etag) } };
  }

  private async read(n: number, size: number): Promise<Buffer> {
    const body = await this.file.read((n - 1) * this.manifest.partSize, size, `part ${n}`);
    this.counts.bytesRead += size;
    return body;
  }

  private stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.warn(why);
  }
}
