import { ProgressTracker } from '../core/progress.js';
import { HashingSource } from '../disk/hashing-source.js';
import { openDisk } from '../formats/detect.js';
import { createContentDigest } from '../hashing/content-digest.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import { headObject } from './download.js';
import { verifyDownloaded, type DownloadVerification } from './download-verify.js';
import { vmxError } from '../core/errors.js';
import { TRANSFER } from './error-codes.js';
import { SOURCE_DIGEST_TAG, SOURCE_SHA256_TAG } from './object-tags.js';
import { OrderedRanges } from './ordered-ranges.js';
import { chooseRangeSize } from './range-plan.js';
import type { RangeSpec } from './range-fetch.js';
import { checkObjectSha256, expectedKind, expectedObjectSha256, uploadedByVmxfer } from './tagged-sha256.js';

export interface VerifyRequest {
  url: string;
  key: string;
  sink: ObjectSink;
  concurrency: number;
  /** A local image whose virtual content must be the one the object was made from. */
  source?: string | undefined;
  signal?: AbortSignal | undefined;
  progress?: ProgressTracker | undefined;
}

export interface VerifyResult {
  url: string;
  objectSize: number;
  /** What the store's own checksum vouched for (CRC-64, multipart ETag, MD5), or only the size. */
  verified: DownloadVerification;
  /** The object's digest tag, recomputed from its bytes and found equal; absent without a tag. */
  digestVerified?: string | undefined;
  /** With a source: its content digest, found equal to the object's source-digest tag. */
  sourceVerified?: string | undefined;
}

/**
 * Reads the object back with parallel ranged GETs (nothing written locally) and checks it against
 * everything it carries: the store's whole-object checksum (OSS CRC-64 folded from the ranges, the
 * S3 multipart ETag when vmxfer recorded the part size), the vmxfer-digest or older vmxfer-sha256
 * tag, and with `source` the vmxfer-source-digest tag against the local image's content.
 */
export async function verifyObject(req: VerifyRequest): Promise<VerifyResult> {
  const progress = req.progress ?? new ProgressTracker();
  progress.phase('opening');
  const info = await headObject(req.sink, req.key, req.url, req.signal);
  const tags = uploadedByVmxfer(info) ? await req.sink.getTags(req.key, req.signal).catch(() => ({}) as Record<string, string>) : {};
  const expected = uploadedByVmxfer(info) ? await expectedObjectSha256(req.sink, req.key, req.signal) : undefined;
  const spec: RangeSpec = { sink: req.sink, key: req.key, size: info.size, rangeSize: chooseRangeSize(info), withCrc64: info.crc64ecma !== undefined };
  progress.totalBytes = info.size;
  progress.phase('verifying');
  const hash = expected === undefined ? undefined : createContentDigest(expectedKind(expected));
  const ordered = new OrderedRanges(spec, req.concurrency, req.signal, (n) => progress.advance(n));
  for await (const chunk of ordered.chunks()) hash?.update(chunk);
  const verified = await verifyDownloaded({ where: req.url, info, rangeSize: spec.rangeSize, digests: ordered.digests, signal: req.signal });
  let digestVerified: string | undefined;
  if (expected !== undefined) checkObjectSha256((digestVerified = hash!.digest()), expected, req.url);
  const sourceVerified = req.source === undefined ? undefined : await checkSource(req, tags);
  progress.phase('done');
  return { url: req.url, objectSize: info.size, verified, digestVerified, sourceVerified };
}

/** The local image's content digest, of the kind the object's source tag holds, compared with it. */
async function checkSource(req: VerifyRequest, tags: Record<string, string>): Promise<string> {
  const tagged = tags[SOURCE_DIGEST_TAG] ?? (tags[SOURCE_SHA256_TAG] === undefined ? undefined : `sha256:${tags[SOURCE_SHA256_TAG]}`);
  if (tagged === undefined) {
    throw vmxError(TRANSFER.SHA256_MISMATCH, `the object carries no ${SOURCE_DIGEST_TAG} or ${SOURCE_SHA256_TAG} tag to compare ${req.source} with`, { file: req.url });
  }
  const disk = await openDisk(req.source!, { signal: req.signal });
  try {
    const hashing = new HashingSource(disk, expectedKind(tagged));
    for await (const _ of hashing.source.extents({ signal: req.signal })) void _;
    const actual = await hashing.digest();
    if (actual !== tagged) {
      throw vmxError(TRANSFER.SHA256_MISMATCH, `the content of ${req.source} has digest ${actual}, but the object's source tag says ${tagged}`, { file: req.url });
    }
    return actual;
  } finally {
    await disk.close();
  }
}
