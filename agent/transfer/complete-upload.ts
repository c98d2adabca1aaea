import { isVmxferError } from '../core/errors.js';
import type { ObjectInfo, ObjectSink } from '../sinks/object-sink.js';
import { TRANSFER } from './error-codes.js';
import type { CheckpointPart } from './upload-checkpoint.js';
import { verifyUploadedObject } from './upload-verify.js';

export interface CompletedObject {
  info: ObjectInfo;
  verified: 'crc64' | 'crc32c' | 'etag' | 'size';
}

/**
 * Complete, made idempotent. When Complete fails, its answer may only have been lost (a reset after
 * the store completed; the retry then finds the upload gone): the object is taken as complete when
 * HEAD shows one whose size and whole-object checksum equal what vmxfer computed from the parts.
 * Otherwise the original failure stands.
 */
export async function completeOrConfirm(sink: ObjectSink, key: string, uploadId: string, parts: CheckpointPart[], etagsOpaque: boolean, signal?: AbortSignal): Promise<CompletedObject> {
  const refs = parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, size: p.size, checksums: { md5: p.md5, crc64ecma: p.crc64, crc64nvme: p.crc64nvme, crc32c: p.crc32c } }));
  let info: ObjectInfo;
  try {
    info = await sink.completeUpload(key, uploadId, refs, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    const done = await confirmCompleted(sink, key, parts, etagsOpaque, signal);
    if (!done) throw err;
    return done;
  }
  return { info, verified: verifyUploadedObject(sink, key, info, parts, etagsOpaque) };
}

/**
 * The object at `key` is the one these parts make: same size and the same CRC-64 or multipart ETag.
 * Size alone cannot tell it from an earlier object, so a sink that vouches for no checksum never
 * confirms. Undefined when there is no such object.
 */
export async function confirmCompleted(sink: ObjectSink, key: string, parts: CheckpointPart[], etagsOpaque: boolean, signal?: AbortSignal): Promise<CompletedObject | undefined> {
  if (parts.length === 0 || parts.some((p, i) => p.partNumber !== i + 1)) return undefined;
  const info = await sink.head(key, signal);
  if (!info) return undefined;
  try {
    const verified = verifyUploadedObject(sink, key, info, parts, etagsOpaque);
    return verified === 'size' ? undefined : { info, verified };
  } catch (err) {
    if (isVmxferError(err) && err.code === TRANSFER.VERIFY_FAILED.code) return undefined;
    throw err;
  }
}
