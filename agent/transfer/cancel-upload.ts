import { isVmxferError } from '../core/errors.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { STORE } from '../sinks/error-codes.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import { checkpointId, type UploadCheckpoint } from './upload-checkpoint.js';

export interface CancelResult {
  /** The upload id aborted, or undefined when no checkpoint named one. */
  uploadId: string | undefined;
  /** False when the store no longer knew the upload (already aborted, completed or expired). */
  abortedAtStore: boolean;
}

/** An upload of `source` to `destination`, its object key at the sink and where its checkpoint lives. */
export interface UploadAtStore {
  source: string;
  destination: string;
  key: string;
  sink: ObjectSink;
  checkpoints: CheckpointStore<UploadCheckpoint>;
  signal?: AbortSignal | undefined;
}

/**
 * Cancels an interrupted upload of `source` to `destination`: aborts the multipart upload at the
 * store (freeing the parts it holds) and deletes the local checkpoint, in that order, so a failed
 * abort leaves the checkpoint for another try.
 */
export async function cancelUpload(req: UploadAtStore): Promise<CancelResult> {
  const id = checkpointId(req.source, req.destination);
  const cp = await req.checkpoints.load(id);
  if (!cp) return { uploadId: undefined, abortedAtStore: false };
  let abortedAtStore = true;
  try {
    await req.sink.abortUpload(req.key, cp.uploadId, req.signal);
  } catch (err) {
    if (!isNoSuchUpload(err)) throw err;
    abortedAtStore = false;
  }
  await req.checkpoints.delete(id);
  return { uploadId: cp.uploadId, abortedAtStore };
}

export function isNoSuchUpload(err: unknown): boolean {
  return isVmxferError(err) && (err.code === STORE.NO_SUCH_UPLOAD.code);
}
