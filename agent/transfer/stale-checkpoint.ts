import { VmxferError, vmxError } from '../core/errors.js';
import { isNoSuchUpload, type UploadAtStore } from './cancel-upload.js';
import { TRANSFER } from './error-codes.js';
import type { UploadCheckpoint } from './upload-checkpoint.js';
import type { UploadRequest } from './upload.js';

/** What replacing a checkpoint needs of the upload that replaces it. */
export interface StaleCheckpointContext extends UploadAtStore {
  onNote?: ((sentence: string) => void) | undefined;
}

/**
 * Refusals that mean "this checkpoint cannot be continued by this job": it belongs to another job,
 * or its upload is gone at the store (aborted, expired by a lifecycle rule).
 */
export function isIncompatible(err: unknown): boolean {
  if (!(err instanceof VmxferError)) return false;
  return [TRANSFER.RESUME_MISMATCH.code, TRANSFER.RESUME_ENCODER.code, TRANSFER.CHECKPOINT_CORRUPT.code].includes(err.code) || isNoSuchUpload(err);
}

/** Drops a checkpoint another job left: its pending upload is aborted at the store (best effort) so no parts stay staged. */
export async function discardCheckpoint(req: StaleCheckpointContext, cp: UploadCheckpoint, why: string): Promise<void> {
  const aborted = await abortStale(req, cp);
  await req.checkpoints.delete(cp.id);
  req.onNote?.(`the checkpoint of an earlier upload of ${req.source} -> ${req.destination} does not fit this job and is replaced (${why}); its upload ${cp.uploadId} was ${aborted}`);
}

/** Aborts a replaced checkpoint's upload so its staged parts do not stay billed; says how it went. */
export function abortStale(req: StaleCheckpointContext, cp: UploadCheckpoint): Promise<string> {
  return req.sink.abortUpload(req.key, cp.uploadId, req.signal).then(
    () => 'aborted at the store',
    (err: unknown) => `not aborted at the store (${(err as Error).message})`,
  );
}

/**
 * Starting afresh over a checkpoint would orphan its multipart upload: without --resume that is refused;
 * with --restart the checkpoint's upload is returned, to be aborted once the new one is open.
 */
export async function earlierUpload(req: Pick<UploadRequest, 'resume' | 'checkpoints' | 'source' | 'destination'>, id: string): Promise<UploadCheckpoint | undefined> {
  if (req.resume !== false && req.resume !== 'restart') return undefined;
  const cp = await req.checkpoints.load(id).catch(() => undefined);
  if (cp && req.resume === false) {
    throw vmxError(
      TRANSFER.CHECKPOINT_EXISTS,
      `an interrupted upload ${cp.uploadId} of ${req.source} -> ${req.destination} has a checkpoint (${cp.parts.length} part(s) confirmed): ` +
        `continue it with --resume, abort it with --cancel, or abandon it and start again with --restart`,
    );
  }
  return cp;
}
