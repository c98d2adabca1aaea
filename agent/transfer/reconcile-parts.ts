import { isVmxferError } from '../core/errors.js';
import { STORE } from '../sinks/error-codes.js';
import { confirmCompleted, type CompletedObject } from './complete-upload.js';
import { stripQuotes } from './multipart-etag.js';
import type { UploadRequest } from './upload.js';
import type { UploadCheckpoint } from './upload-checkpoint.js';
import { opaqueEtags } from './upload-verify.js';

/**
 * The checkpoint's parts as the store holds them now: ListParts keeps the confirmed parts whose ETag
 * and size it lists. An upload the store no longer knows was completed, when the object there is the
 * one the checkpoint's parts make; otherwise its NO_SUCH_UPLOAD is the caller's.
 */
export async function reconcileWithStore(req: UploadRequest, cp: UploadCheckpoint): Promise<{ cp: UploadCheckpoint; completed: CompletedObject | undefined }> {
  let listing;
  try {
    listing = await req.sink.listParts(req.key, cp.uploadId, req.signal);
  } catch (err) {
    if (!isVmxferError(err) || err.code !== STORE.NO_SUCH_UPLOAD.code) throw err;
    const completed = await confirmCompleted(req.sink, req.key, cp.parts, opaqueEtags(req.uploadOptions?.encryption?.algorithm), req.signal);
    if (!completed) throw err;
    return { cp, completed };
  }
  const listed = new Map(listing.map((p) => [p.partNumber, p]));
  cp.parts = cp.parts.filter((p) => {
    const l = listed.get(p.partNumber);
    return l !== undefined && stripQuotes(l.etag) === stripQuotes(p.etag) && l.size === p.size;
  });
  return { cp, completed: undefined };
}
