import { open, stat, type FileHandle } from 'node:fs/promises';
import { throwIfAborted } from '../core/abort.js';
import { vmxError } from '../core/errors.js';
import type { ProgressTracker } from '../core/progress.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { fsError } from '../io/random-access-file.js';
import type { ObjectInfo } from '../sinks/object-sink.js';
import { downloadCheckpointId, type DownloadCheckpoint, type RangeDigest } from './download-checkpoint.js';
import { verifyDownloaded, type DownloadVerification } from './download-verify.js';
import { TRANSFER } from './error-codes.js';
import { fetchRange, type RangeSpec } from './range-fetch.js';
import { rangeCount } from './range-plan.js';

export interface FileFetchRequest {
  url: string;
  destination: string;
  partial: string;
  info: ObjectInfo;
  spec: RangeSpec;
  concurrency: number;
  resume: boolean;
  checkpoints: CheckpointStore<DownloadCheckpoint>;
  progress: ProgressTracker;
  signal?: AbortSignal | undefined;
  onRange?: ((index: number) => void) | undefined;
}

export interface FileFetchResult {
  verified: DownloadVerification;
  fetched: number;
  skipped: number;
}

/**
 * Parallel ranged GETs written in place into the partial file (memory: concurrency × range size),
 * a checkpoint of the completed ranges after each one, and on success the whole object verified
 * against the store's checksum. The partial file is left, with its checkpoint, for --resume.
 */
export async function fetchToFile(req: FileFetchRequest): Promise<FileFetchResult> {
  const cp = req.resume ? await resumeCheckpoint(req) : await freshCheckpoint(req);
  const fh = await open(req.partial, 'r+').catch((err) => {
    throw fsError(err, req.partial);
  });
  try {
    const done = new Map(cp.ranges.map((r) => [r.index, r]));
    const skipped = done.size;
    req.progress.advance(skipped * req.spec.rangeSize > req.info.size ? req.info.size : skipped * req.spec.rangeSize);
    const missing = Array.from({ length: rangeCount(req.info.size, req.spec.rangeSize) }, (_, i) => i).filter((i) => !done.has(i));
    await fetchMissing(req, fh, cp, done, missing);
    const digests = [...done.values()].sort((a, b) => a.index - b.index);
    req.progress.phase('verifying');
    const verified = await verifyDownloaded({ where: req.url, info: req.info, rangeSize: req.spec.rangeSize, digests, file: fh, signal: req.signal });
    await fh.sync();
    await req.checkpoints.delete(cp.id);
    return { verified, fetched: missing.length, skipped };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function fetchMissing(req: FileFetchRequest, fh: FileHandle, cp: DownloadCheckpoint, done: Map<number, RangeDigest>, missing: number[]): Promise<void> {
  const inner = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, inner.signal]) : inner.signal;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const one = async (index: number) => {
    const r = await fetchRange(req.spec, index, signal);
    await writeAt(fh, r.data, r.start, req.partial);
    done.set(index, r.digest);
    req.progress.advance(r.data.length);
    req.progress.wrote(r.data.length);
    cp.ranges = [...done.values()].sort((a, b) => a.index - b.index);
    cp.updatedAt = new Date().toISOString();
    await req.checkpoints.save({ ...cp });
    req.onRange?.(index);
  };
  for (const index of missing) {
    throwIfAborted(req.signal);
    while (inFlight.size >= req.concurrency && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) break;
    const p: Promise<void> = one(index)
      .catch((err: unknown) => {
        failure ??= err;
        inner.abort(err);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.allSettled(inFlight);
  if (failure !== undefined) throw failure;
  throwIfAborted(req.signal);
}

async function writeAt(fh: FileHandle, buf: Buffer, pos: number, file: string): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    try {
      const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
      done += bytesWritten;
    } catch (err) {
      throw fsError(err, file, pos + done);
    }
  }
}

async function freshCheckpoint(req: FileFetchRequest): Promise<DownloadCheckpoint> {
  let fh: FileHandle;
  try {
    fh = await open(req.partial, 'w');
    await fh.truncate(req.info.size);
    await fh.close();
  } catch (err) {
    throw fsError(err, req.partial);
  }
  const cp: DownloadCheckpoint = {
    id: downloadCheckpointId(req.url, req.partial),
    version: 1,
    kind: 'download',
    source: req.url,
    destination: req.destination,
    partial: req.partial,
    object: { size: req.info.size, etag: req.info.etag },
    rangeSize: req.spec.rangeSize,
    ranges: [],
    updatedAt: new Date().toISOString(),
  };
  await req.checkpoints.save(cp);
  return cp;
}

/** The checkpoint of an interrupted download, refused if the object or the partial file changed. */
async function resumeCheckpoint(req: FileFetchRequest): Promise<DownloadCheckpoint> {
  const cp = await req.checkpoints.load(downloadCheckpointId(req.url, req.partial));
  if (!cp) throw vmxError(TRANSFER.NO_CHECKPOINT, `no checkpoint for a download of ${req.url} to ${req.destination}; start without --resume`);
  if (cp.object.size !== req.info.size || cp.object.etag !== req.info.etag) {
    throw vmxError(TRANSFER.RESUME_MISMATCH, `the object changed since the download started (size/ETag ${cp.object.size}/${cp.object.etag} now ${req.info.size}/${req.info.etag})`, { file: req.url });
  }
  if (cp.rangeSize !== req.spec.rangeSize) {
    throw vmxError(TRANSFER.RESUME_MISMATCH, `range size was ${cp.rangeSize} when the download started, now ${req.spec.rangeSize}`, { file: req.url });
  }
  const st = await stat(req.partial).catch(() => undefined);
  if (!st || st.size !== req.info.size) {
    throw vmxError(TRANSFER.RESUME_MISMATCH, `the partial file is ${st ? `${st.size} bytes, not ${req.info.size}` : 'missing'}; start without --resume`, { file: req.partial });
  }
  const count = rangeCount(req.info.size, req.spec.rangeSize);
  cp.ranges = cp.ranges.filter((r) => r.index < count);
  return cp;
}
