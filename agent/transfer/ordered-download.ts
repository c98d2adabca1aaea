import { createHash } from 'node:crypto';
import { throwIfAborted } from '../core/abort.js';
import { vmxError } from '../core/errors.js';
import { STORE } from '../sinks/error-codes.js';
import { ProgressTracker } from '../core/progress.js';
import { writeStreamToFile } from '../io/file-output.js';
import { JOB } from '../jobs/error-codes.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import { stripQuotes } from './multipart-etag.js';

export interface DownloadRequest {
  sink: ObjectSink;
  key: string;
  /** Local file to create (through a temporary sibling renamed into place at the end). */
  destination: string;
  /** Bytes per range request; memory is `rangeSize * concurrency`. */
  rangeSize: number;
  concurrency: number;
  signal?: AbortSignal | undefined;
  progress?: ProgressTracker | undefined;
}

export interface DownloadResult {
  objectSize: number;
  etag: string;
  sha256: string;
  seconds: number;
}

/**
 * Fetches an object in parallel ranges, written in order (so memory stays at `concurrency` ranges)
 * and hashed on the way; a single-part object's ETag (its MD5) is checked against the bytes.
 */
export async function downloadObject(req: DownloadRequest): Promise<DownloadResult> {
  const started = performance.now();
  const progress = req.progress ?? new ProgressTracker();
  progress.phase('opening');
  const info = await req.sink.head(req.key, req.signal);
  if (!info) throw vmxError(STORE.NO_SUCH_KEY, `object ${req.key} does not exist in ${req.sink.bucket}`);
  progress.totalBytes = info.size;
  progress.phase('downloading');
  const md5 = createHash('md5');
  const chunks = (async function* () {
    for await (const buf of fetchRanges(req, info.size)) {
      md5.update(buf);
      progress.advance(buf.length);
      yield buf;
    }
  })();
  const out = await writeStreamToFile(req.destination, chunks, { signal: req.signal, onWrite: (n) => progress.wrote(n) });
  progress.phase('verifying');
  if (out.bytes !== info.size) {
    throw vmxError(JOB.DOWNLOAD_SIZE, `wrote ${out.bytes} bytes but the store reports ${info.size} for ${req.key}`, { file: req.destination });
  }
  const etag = stripQuotes(info.etag);
  // A plain (non-multipart) ETag is the MD5 of the object on S3 and OSS alike.
  if (/^[0-9a-f]{32}$/i.test(etag) && etag.toLowerCase() !== md5.digest('hex')) {
    throw vmxError(JOB.DOWNLOAD_DIGEST, `the downloaded bytes' MD5 differs from the object's ETag ${etag}`, { file: req.destination });
  }
  progress.phase('done');
  return { objectSize: out.bytes, etag, sha256: out.sha256, seconds: (performance.now() - started) / 1000 };
}

/** Ranges in order with up to `concurrency` requests ahead of the one being consumed. */
async function* fetchRanges(req: DownloadRequest, size: number): AsyncGenerator<Buffer> {
  const window: Array<{ start: number; end: number; body: Promise<Buffer> }> = [];
  let next = 0;
  const launch = () => {
    const start = next;
    const end = Math.min(size, start + req.rangeSize);
    next = end;
    const body = req.sink.getRange(req.key, start, end, req.signal);
    // Ranges behind a failed one are never awaited: keep their rejections handled.
    body.catch(() => undefined);
    window.push({ start, end, body });
  };
  try {
    while (next < size && window.length < req.concurrency) launch();
    while (window.length > 0) {
      throwIfAborted(req.signal);
      const r = window.shift()!;
      const buf = await r.body;
      if (buf.length !== r.end - r.start) {
        throw vmxError(JOB.DOWNLOAD_SIZE, `range [${r.start}, ${r.end}) of ${req.key} returned ${buf.length} bytes`, { offset: r.start });
      }
      if (next < size) launch();
      yield buf;
    }
  } finally {
    window.length = 0;
  }
}
