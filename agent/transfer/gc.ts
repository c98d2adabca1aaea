import { throwIfAborted } from '../core/abort.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import { isNoSuchUpload } from './cancel-upload.js';
import type { UploadCheckpoint } from './upload-checkpoint.js';

export type GcAction = 'aborted' | 'would-abort' | 'kept-young' | 'kept-checkpoint' | 'already-gone';

export interface GcEntry {
  key: string;
  uploadId: string;
  initiated: string | undefined;
  action: GcAction;
  /** The local checkpoint that references the upload, if any. */
  checkpoint?: string | undefined;
}

export interface GcRequest {
  sink: ObjectSink;
  prefix: string;
  /** Uploads initiated less than this long ago are kept. */
  olderThanMs: number;
  dryRun: boolean;
  /** Abort uploads a local checkpoint still references too (and delete that checkpoint). */
  force: boolean;
  checkpoints: CheckpointStore<UploadCheckpoint>;
  now?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Lists multipart uploads under a prefix and aborts the stale ones: initiated before now minus
 * olderThan (an upload whose store gives no initiation time counts as stale), and not referenced by
 * a local checkpoint, which `--resume` would still need, unless forced.
 */
export async function collectStaleUploads(req: GcRequest): Promise<GcEntry[]> {
  const now = req.now ?? Date.now();
  const byUpload = new Map((await req.checkpoints.list()).map((cp) => [cp.uploadId, cp]));
  const out: GcEntry[] = [];
  for (const u of await req.sink.listUploads(req.prefix, req.signal)) {
    throwIfAborted(req.signal);
    const cp = byUpload.get(u.uploadId);
    const entry: GcEntry = { key: u.key, uploadId: u.uploadId, initiated: u.initiated?.toISOString(), action: 'would-abort', checkpoint: cp?.id };
    out.push(entry);
    if (u.initiated && now - u.initiated.getTime() < req.olderThanMs) entry.action = 'kept-young';
    else if (cp && !req.force) entry.action = 'kept-checkpoint';
    else if (!req.dryRun) entry.action = await abortOne(req, u.key, u.uploadId, cp);
  }
  return out;
}

async function abortOne(req: GcRequest, key: string, uploadId: string, cp: UploadCheckpoint | undefined): Promise<GcAction> {
  let action: GcAction = 'aborted';
  try {
    await req.sink.abortUpload(key, uploadId, req.signal);
  } catch (err) {
    if (!isNoSuchUpload(err)) throw err;
    action = 'already-gone';
  }
  if (cp) await req.checkpoints.delete(cp.id);
  return action;
}
