import { createContentDigest, sha256Hex, type ContentDigest } from '../hashing/content-digest.js';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { vmxError } from '../core/errors.js';
import { CORE } from '../core/error-codes.js';
import { ProgressTracker } from '../core/progress.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { DiskSource } from '../disk/disk-source.js';
import { WRITERS, writerByTarget } from '../formats/registry.js';
import { vmdkStreamReader } from '../formats/vmdk/stream-reader.js';
import { writeStreamToFile } from '../io/file-output.js';
import { fsError } from '../io/random-access-file.js';
import { convertFile } from '../pipeline/convert.js';
import { STORE } from '../sinks/error-codes.js';
import type { ObjectInfo, ObjectSink } from '../sinks/object-sink.js';
import type { TokenBucket } from '../sinks/token-bucket.js';
import type { DownloadCheckpoint } from './download-checkpoint.js';
import { fetchToFile } from './download-to-file.js';
import { verifyDownloaded, type DownloadVerification } from './download-verify.js';
import { OrderedRanges } from './ordered-ranges.js';
import { chooseRangeSize } from './range-plan.js';
import type { RangeSpec } from './range-fetch.js';
import { throttledSink } from '../sinks/throttled-sink.js';
import { RawStreamDisk } from './raw-stream-disk.js';
import { detectRemoteFormat, type RemoteFormat } from './remote-format.js';
import { checkObjectSha256, expectedKind, expectedObjectSha256, fileSha256, uploadedByVmxfer } from './tagged-sha256.js';

export interface DownloadRequest {
  url: string;
  key: string;
  sink: ObjectSink;
  destination: string;
  /** Convert to this writer target on the way; undefined keeps the object's bytes. */
  to?: string | undefined;
  /** With `to`: which disk of a multi-disk object (an OVA) to convert, 1-based (convert's --disk; default 1). */
  disk?: number | undefined;
  concurrency: number;
  resume: boolean;
  checkpoints: CheckpointStore<DownloadCheckpoint>;
  rangeSize?: number | undefined;
  bandwidth?: TokenBucket | undefined;
  signal?: AbortSignal | undefined;
  progress?: ProgressTracker | undefined;
  onRange?: ((index: number) => void) | undefined;
}

export interface DownloadResult {
  url: string;
  destination: string;
  objectSize: number;
  rangeSize: number;
  rangesFetched: number;
  rangesSkipped: number;
  verified: DownloadVerification;
  /** The object's digest (`<kind>:<hex>`), checked against the vmxfer-digest or vmxfer-sha256 tag its upload wrote; absent without either. */
  digestVerified?: string | undefined;
  /** Its hex when that tag was a full SHA-256 (vmxfer-sha256). */
  sha256Verified?: string | undefined;
  /** With --to: the object's format and whether it was converted from the stream or a local copy. */
  conversion?: { from: string; to: string; mode: 'stream' | 'local'; outputBytes: number; outputSha256: string | undefined; outputDigest: string } | undefined;
  seconds: number;
}

/** `.NAME.vmxfer-partial` beside the destination (what convert's file output uses too). */
export function partialPath(destination: string, tag = ''): string {
  return join(dirname(destination), `.${basename(destination)}${tag}.vmxfer-partial`);
}

/**
 * The partial file whose checkpoint a resumed download continues: the object's own bytes, or with
 * a conversion the local copy a seekable format is converted from (a conversion from the stream
 * keeps no checkpoint, so it has nothing to resume).
 */
export function checkpointedPartial(destination: string, converting: boolean): string {
  return partialPath(destination, converting ? SOURCE_TAG : '');
}

const SOURCE_TAG = '.source';

/**
 * Downloads an object with parallel ranged GETs, verified against the store's whole-object
 * checksum, optionally converting it: from the ordered stream of GETs when its layout allows
 * (stream-optimized VMDK, raw), otherwise from a local copy that is removed afterwards.
 */
export async function downloadObject(req: DownloadRequest): Promise<DownloadResult> {
  const started = performance.now();
  const progress = req.progress ?? new ProgressTracker();
  progress.phase('opening');
  const destination = resolve(req.destination);
  const writer = req.to === undefined ? undefined : writerByTarget(req.to);
  if (req.to !== undefined && !writer) throw vmxError(CORE.UNSUPPORTED_TARGET, `cannot write "${req.to}" (targets: ${WRITERS.map((w) => w.target).join(', ')})`);
  const info = await headObject(req.sink, req.key, req.url, req.signal);
  progress.totalBytes = info.size;
  const spec: RangeSpec = {
    // --bwlimit is a decorator around the sink like retry and metrics.
    sink: throttledSink(req.sink, req.bandwidth),
    key: req.key,
    size: info.size,
    rangeSize: chooseRangeSize(info, req.rangeSize),
    withCrc64: info.crc64ecma !== undefined,
  };
  const base = { url: req.url, destination, objectSize: info.size, rangeSize: spec.rangeSize };
  const remote = req.to === undefined ? undefined : await detectRemoteFormat(req.sink, req.key, info.size, req.url, req.signal);
  const expectedSha256 = uploadedByVmxfer(info) ? await expectedObjectSha256(req.sink, req.key, req.signal) : undefined;
  progress.phase('downloading');
  if (!remote || !req.to) {
    const partial = partialPath(destination);
    const r = await fetchToFile({ ...req, destination, partial, info, spec, progress });
    const digestVerified = await checkFileAgainstTag(partial, expectedSha256, req.url, req.signal);
    await rename(partial, destination).catch((err) => {
      throw fsError(err, destination);
    });
    return { ...base, rangesFetched: r.fetched, rangesSkipped: r.skipped, verified: r.verified, ...verifiedFields(digestVerified), seconds: seconds(started) };
  }
  const conv = remote.streamable
    ? await convertFromStream(req, info, spec, remote, destination, progress, expectedSha256)
    : await convertFromCopy(req, info, spec, remote, destination, progress, expectedSha256);
  return { ...base, ...conv, seconds: seconds(started) };
}

/** The object's HEAD; a missing object is the typed NO_SUCH_KEY error, naming `url`. */
export async function headObject(sink: Pick<ObjectSink, 'head'>, key: string, url: string, signal?: AbortSignal): Promise<ObjectInfo> {
  const info = await sink.head(key, signal);
  if (!info) throw vmxError(STORE.NO_SUCH_KEY, 'HeadObject answered 404 NotFound: no such object (or no such bucket)', { file: url });
  return info;
}

/** The downloaded copy against the tag; a copy that fails is removed (its checkpoint is gone already). */
async function checkFileAgainstTag(path: string, expected: string | undefined, where: string, signal?: AbortSignal): Promise<string | undefined> {
  if (expected === undefined) return undefined;
  const actual = await fileSha256(path, expectedKind(expected), signal);
  try {
    checkObjectSha256(actual, expected, where);
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw err;
  }
  return actual;
}

function verifiedFields(digest: string | undefined): Pick<DownloadResult, 'digestVerified' | 'sha256Verified'> {
  return { digestVerified: digest, sha256Verified: sha256Hex(digest) };
}

/** The digest of the object's bytes as the ordered ranges stream past the stream reader. */
function hashedChunks(chunks: AsyncIterable<Buffer>, hash: ContentDigest): AsyncGenerator<Buffer> {
  return (async function* () {
    for await (const c of chunks) {
      hash.update(c);
      yield c;
    }
  })();
}

type Converted = Pick<DownloadResult, 'rangesFetched' | 'rangesSkipped' | 'verified' | 'digestVerified' | 'sha256Verified' | 'conversion'>;

/** Streamable layouts: GETs in order → stream reader → writer → destination. Not resumable mid-way. */
async function convertFromStream(
  req: DownloadRequest,
  info: ObjectInfo,
  spec: RangeSpec,
  remote: RemoteFormat,
  destination: string,
  progress: ProgressTracker,
  expectedSha256: string | undefined,
): Promise<Converted> {
  const ordered = new OrderedRanges(spec, req.concurrency, req.signal);
  const objectHash = createContentDigest(expectedKind(expectedSha256 ?? ''));
  const chunks = hashedChunks(ordered.chunks(), objectHash);
  let disk: DiskSource;
  if (remote.streamable === 'vmdk-stream') {
    disk = await vmdkStreamReader.open(Readable.from(chunks), { name: req.url, size: info.size, signal: req.signal });
  } else {
    disk = new RawStreamDisk(chunks, info.size, req.url);
  }
  try {
    progress.totalBytes = disk.virtualSize;
    const writer = writerByTarget(req.to!)!;
    const out = await writeStreamToFile(destination, writer.write(disk, { signal: req.signal }), {
      signal: req.signal,
      onWrite: (n) => progress.wrote(n),
    });
    progress.advance(disk.virtualSize);
    progress.phase('verifying');
    const digests = await ordered.finishDigests((data) => objectHash.update(data));
    let digestVerified: string | undefined;
    const verified = await verifyDownloaded({ where: req.url, info, rangeSize: spec.rangeSize, digests, signal: req.signal })
      .then((v) => {
        // The stream and finishDigests together passed every range through the hash, in order.
        if (expectedSha256 !== undefined) checkObjectSha256((digestVerified = objectHash.digest()), expectedSha256, req.url);
        return v;
      })
      .catch(async (err: unknown) => {
        await unlink(destination).catch(() => undefined);
        throw err;
      });
    return {
      rangesFetched: digests.length,
      rangesSkipped: 0,
      verified,
      ...verifiedFields(digestVerified),
      conversion: { from: remote.format, to: writer.target, mode: 'stream', outputBytes: out.bytes, outputSha256: out.sha256, outputDigest: out.digest },
    };
  } finally {
    await disk.close();
  }
}

/** Layouts that need seeks: download to a local copy (resumable), convert it, remove it. */
async function convertFromCopy(
  req: DownloadRequest,
  info: ObjectInfo,
  spec: RangeSpec,
  remote: RemoteFormat,
  destination: string,
  progress: ProgressTracker,
  expectedSha256: string | undefined,
): Promise<Converted> {
  const partial = checkpointedPartial(destination, true);
  const r = await fetchToFile({ ...req, destination, partial, info, spec, progress });
  const digestVerified = await checkFileAgainstTag(partial, expectedSha256, req.url, req.signal);
  progress.phase('converting');
  const c = await convertFile({ source: partial, destination, to: req.to!, from: remote.format, disk: req.disk, signal: req.signal });
  await unlink(partial).catch((err) => {
    throw fsError(err, partial);
  });
  return {
    rangesFetched: r.fetched,
    rangesSkipped: r.skipped,
    verified: r.verified,
    ...verifiedFields(digestVerified),
    conversion: { from: remote.format, to: c.target, mode: 'local', outputBytes: c.outputBytes, outputSha256: c.outputSha256, outputDigest: c.outputDigest },
  };
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}
