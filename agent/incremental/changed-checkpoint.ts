import { createHash } from 'node:crypto';
import { reconcileWithStore } from '../transfer/reconcile-parts.js';
import { vmxError, VmxferError } from '../core/errors.js';
import type { CompletedObject } from '../transfer/complete-upload.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { abortStale, discardCheckpoint, earlierUpload, isIncompatible } from '../transfer/stale-checkpoint.js';
import type { UploadRequest } from '../transfer/upload.js';
import { checkpointId, type SourceIdentity, type UploadCheckpoint } from '../transfer/upload-checkpoint.js';
import type { ChangedExtentList } from './changed-blocks/extent-list.js';
import type { IncrementalManifest } from './manifest.js';

/** Marks a checkpoint as a change-list pass's (options.mode): a normal upload never resumes it, nor it one. */
export const CHANGED_MODE = 'changed-blocks';

/** The change list's identity: SHA-256 of its normalized extents, so a different list never continues this pass. */
export function changeListId(list: ChangedExtentList): string {
  return createHash('sha256').update(JSON.stringify({ virtualSize: list.virtualSize, extents: list.extents })).digest('hex');
}

/** What the pass depends on: the output, the manifest's parts and object, and the list. */
export function changedOptions(req: UploadRequest, manifest: IncrementalManifest, list: ChangedExtentList): UploadCheckpoint['options'] {
  return { mode: CHANGED_MODE, as: req.as, partSize: manifest.partSize, manifestEtag: manifest.objectEtag, changeList: changeListId(list) };
}

export function isChangedCheckpoint(cp: UploadCheckpoint): boolean {
  return cp.options.mode === CHANGED_MODE;
}

export interface ChangedRun {
  cp: UploadCheckpoint;
  /** The store already completed this checkpoint's upload (a kill after Complete, before the tags). */
  completed: CompletedObject | undefined;
}

/**
 * The checkpoint a change-list pass continues or starts, with the same resume rules as any upload
 * (UploadRequest.resume): a checkpoint without --resume is refused, --restart aborts it, --resume
 * needs one that matches this source, list and manifest, and 'if-compatible' replaces one that does not.
 */
export async function openChangedRun(req: UploadRequest, options: UploadCheckpoint['options'], source: SourceIdentity, createUpload: () => Promise<string>): Promise<ChangedRun> {
  const id = checkpointId(req.source, req.destination);
  const begin = async (): Promise<ChangedRun> => {
    const uploadId = await createUpload();
    const cp: UploadCheckpoint = { id, version: 1, destination: req.destination, uploadId, source, options, parts: [], updatedAt: new Date().toISOString() };
    await req.checkpoints.save(cp);
    return { cp, completed: undefined };
  };
  if (req.resume === false || req.resume === 'restart') {
    const prior = await earlierUpload(req, id);
    if (prior) {
      req.onNote?.(`started afresh (--restart); the earlier upload ${prior.uploadId} of ${req.source} -> ${req.destination} was ${await abortStale(req, prior)}`);
      await req.checkpoints.delete(id);
    }
    return begin();
  }
  const prior = await loadPrior(req, id);
  if (!prior) {
    if (req.resume === true) throw vmxError(TRANSFER.NO_CHECKPOINT, `no checkpoint for ${req.source} -> ${req.destination}; start without --resume`);
    return begin();
  }
  try {
    return await reconcile(req, prior, source, options);
  } catch (err) {
    if (req.resume !== 'if-compatible' || !isIncompatible(err)) throw err;
    await discardCheckpoint(req, prior, (err as Error).message);
    return begin();
  }
}

async function loadPrior(req: UploadRequest, id: string): Promise<UploadCheckpoint | undefined> {
  try {
    return await req.checkpoints.load(id);
  } catch (err) {
    if (req.resume === true || !(err instanceof VmxferError) || err.code !== TRANSFER.CHECKPOINT_CORRUPT.code) throw err;
    req.onNote?.(`checkpoint ${id} for ${req.source} -> ${req.destination} is unreadable and is replaced: ${err.message}`);
    await req.checkpoints.delete(id);
    return undefined;
  }
}

/** The source, list and manifest must be those the pass started with; only the parts ListParts confirms are kept. */
async function reconcile(req: UploadRequest, cp: UploadCheckpoint, source: SourceIdentity, options: UploadCheckpoint['options']): Promise<ChangedRun> {
  if (cp.source.size !== source.size || cp.source.mtimeMs !== source.mtimeMs) {
    throw vmxError(TRANSFER.RESUME_MISMATCH, `the source changed since the upload started (size/mtime ${cp.source.size}/${cp.source.mtimeMs} now ${source.size}/${source.mtimeMs})`, { file: req.source });
  }
  for (const [k, v] of Object.entries(options)) {
    if (cp.options[k] === v) continue;
    const what = k === 'changeList' ? 'the change list' : k === 'manifestEtag' ? 'the object the manifest describes' : k === 'mode' ? 'the kind of pass (a change-list pass or one that reads the whole source)' : `option ${k}`;
    throw vmxError(TRANSFER.RESUME_MISMATCH, `${what} differs from the interrupted pass's (${String(cp.options[k])} then, ${String(v)} now)`, { file: req.source });
  }
  return reconcileWithStore(req, cp);
}
