import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import pLimit from 'p-limit';
import { isVmxferError, vmxError } from '../core/errors.js';
import { detectFormat, openDisk } from '../formats/detect.js';
import { Qcow2Disk } from '../formats/qcow2/qcow2-disk.js';
import { RandomAccessFile } from '../io/random-access-file.js';
import { STORE } from '../sinks/error-codes.js';
import { bareEtag, partMd5 } from '../sinks/part-rules.js';
import type { ObjectSink, PartRef } from '../sinks/object-sink.js';
import { completeOrConfirm } from '../transfer/complete-upload.js';
import { sendPart } from '../transfer/send-part.js';
import type { UploadRequest } from '../transfer/upload.js';
import type { CheckpointPart } from '../transfer/upload-checkpoint.js';
import { changedParts, type ChangedExtentList } from './changed-blocks/extent-list.js';
import { INCR } from './error-codes.js';
import type { IncrementalManifest, ManifestPart } from './manifest.js';

/** Failures that mean the object is not the one the manifest describes. */
const STALE_SOURCE = new Set([STORE.PRECONDITION_FAILED.code, STORE.NO_SUCH_KEY.code, STORE.BAD_RANGE.code]);

export interface ChangedPassResult {
  uploadId: string;
  objectSize: number;
  etag: string;
  verified: 'crc64' | 'etag' | 'size';
  partSize: number;
  parts: ManifestPart[];
  partsCopied: number;
  partsSent: number;
  bytesCopied: number;
  bytesSent: number;
  /** Source bytes read: only the parts the list touches (plus any an edited object forced). */
  bytesRead: number;
}

/** Random reads of the source's virtual disk: the only reads a change-list pass makes. */
interface PartReader {
  size: number;
  read(offset: number, length: number, what: string): Promise<Buffer>;
  close(): Promise<void>;
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

async function openPartReader(req: UploadRequest): Promise<PartReader> {
  const format = req.from ?? (await detectFormat(req.source)).name;
  if (format === 'raw') {
    const file = await RandomAccessFile.open(req.source);
    return { size: file.size, read: (o, n, what) => file.read(o, n, what), close: () => file.close() };
  }
  const disk = await openDisk(req.source, { format, signal: req.signal });
  if (!(disk instanceof Qcow2Disk) || disk.info.parent) {
    await disk.close();
    throw vmxError(INCR.LAYOUT, 'a changed-block pass reads a qcow2 image at random, which vmxfer does only for an image without a backing file', { file: req.source });
  }
  return {
    size: disk.virtualSize,
    async read(o, n) {
      const buf = Buffer.allocUnsafe(n);
      await disk.readAt(o, buf);
      return buf;
    },
    close: () => disk.close(),
  };
}

/**
 * An incremental pass that reads only the parts a change list touches: each of those is read,
 * hashed and sent; every other part is copied by the store from the object the manifest describes
 * without reading the source. Contract (docs/warm-migration.md): the list names every range written
 * since the source state the manifest's pass read. A copied part must come back with the ETag the
 * manifest recorded for it (the MD5 of the bytes it held), else the object was edited behind the
 * manifest: that part and every later one are read and sent instead.
 */
export async function uploadChangedParts(req: UploadRequest, manifest: IncrementalManifest, list: ChangedExtentList, warn: (s: string) => void): Promise<ChangedPassResult> {
  const file = await openPartReader(req);
  try {
    const size = file.size;
    if (list.virtualSize !== size || manifest.objectSize !== size) {
      throw vmxError(
        INCR.CHANGED_MISMATCH,
        `the change list describes a disk of ${list.virtualSize} bytes, the source has ${size} and the object the manifest describes ${manifest.objectSize}: the list is not relative to this object`,
        { file: req.source },
      );
    }
    const partSize = manifest.partSize;
    const toRead = changedParts(list, partSize);
    const sink = req.sink;
    const metadata = { 'vmxfer-source': basename(req.source), 'vmxfer-format': req.as, 'vmxfer-part-size': String(partSize), ...(req.uploadOptions?.metadata ?? {}) };
    const uploadId = await sink.createUpload(req.key, { ...req.uploadOptions, metadata }, req.signal);
    const pass = new ChangedPass(req, sink, file, manifest, uploadId, warn);
    try {
      const count = Math.ceil(size / partSize);
      const limit = pLimit(req.concurrency);
      req.progress?.phase('uploading');
      req.progress?.uploading(size, partSize);
      const done = await Promise.all(Array.from({ length: count }, (_, i) => limit(() => pass.part(i + 1, toRead.has(i + 1)))));
      req.progress?.phase('verifying');
      const parts = done.map((d) => d.checkpoint);
      await req.beforeComplete?.();
      const { info, verified } = await completeOrConfirm(sink, req.key, uploadId, parts, false, req.signal);
      return { uploadId, objectSize: info.size, etag: info.etag, verified, partSize, parts: done.map((d) => d.manifest), ...pass.counts };
    } catch (err) {
      await sink.abortUpload(req.key, uploadId).catch(() => undefined);
      throw err;
    }
  } finally {
    await file.close();
  }
}

interface PartOutcome {
  checkpoint: CheckpointPart;
  manifest: ManifestPart;
}

class ChangedPass {
  counts = { partsCopied: 0, partsSent: 0, bytesCopied: 0, bytesSent: 0, bytesRead: 0 };
  private stopped = false;

  constructor(
    private readonly req: UploadRequest,
    private readonly sink: ObjectSink,
    private readonly file: PartReader,
    private readonly manifest: IncrementalManifest,
    private readonly uploadId: string,
    private readonly warn: (s: string) => void,
  ) {}

  async part(n: number, changed: boolean): Promise<PartOutcome> {
    const before = this.manifest.parts[n - 1]!;
    if (!changed && !this.stopped) {
      const copied = await this.copy(n, before);
      if (copied) return copied;
    }
    return this.send(n, before.size);
  }

  private async copy(n: number, before: ManifestPart): Promise<PartOutcome | undefined> {
    const start = (n - 1) * this.manifest.partSize;
    let ref: PartRef;
    try {
      ref = await this.sink.copyPart!(this.req.key, this.uploadId, n, { key: this.manifest.key, start, end: start + before.size, ifMatch: this.manifest.objectEtag }, this.req.signal);
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

  private async send(n: number, size: number): Promise<PartOutcome> {
    const body = await this.file.read((n - 1) * this.manifest.partSize, size, `part ${n}`);
    this.counts.bytesRead += size;
    const sha256 = createHash('sha256').update(body).digest('hex');
    const ref = await sendPart(this.sink, this.req.key, this.uploadId, n, body, this.req.signal, this.req.onCorruptedPart);
    const md5 = partMd5(body);
    this.counts.partsSent++;
    this.counts.bytesSent += size;
    this.req.progress?.wrote(size);
    this.req.progress?.confirmed(size);
    return { checkpoint: { partNumber: n, etag: ref.etag, size, md5: md5.base64 }, manifest: { partNumber: n, size, sha256, etag: bareEtag(ref.etag) } };
  }

  private stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.warn(why);
  }
}
