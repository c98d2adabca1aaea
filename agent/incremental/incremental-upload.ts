import { stat } from 'node:fs/promises';
import { vmxError } from '../core/errors.js';
import { fsError } from '../io/random-access-file.js';
import { uploadImage, type UploadRequest, type UploadResult } from '../transfer/upload.js';
import { opaqueEtags } from '../transfer/upload-verify.js';
import { checkIncrementalLayout } from './eligibility.js';
import { INCR } from './error-codes.js';
import { manifestKey, readManifest, writeManifest, type IncrementalManifest } from './manifest.js';
import { ManifestPartCopier } from './part-copier.js';
import { checkChangedBlocksSource, uploadChangedParts } from './changed-upload.js';
import type { ChangedExtentList } from './changed-blocks/extent-list.js';
import { DIGEST_BLOCK } from './block-digests.js';
import { isChangedCheckpoint } from './changed-checkpoint.js';
import { checkpointId } from '../transfer/upload-checkpoint.js';
import { discardCheckpoint } from '../transfer/stale-checkpoint.js';

export interface IncrementalReport {
  /** Where the manifest lives. */
  manifestKey: string;
  /** What the pass started from: no manifest (a full upload), one that matches the object, or one that does not (a full upload). */
  base: 'none' | 'manifest' | 'stale-manifest';
  partsCopied: number;
  partsSent: number;
  bytesCopied: number;
  bytesSent: number;
  /** Source bytes read in this pass: the whole source, or with a change list only the parts it touches. */
  bytesRead: number | undefined;
  /** Whether a change list (--changed-blocks) chose the parts read; false when it could not be used. */
  changeList: boolean;
  /** Why copying stopped or never started, when it did. */
  warning: string | undefined;
}

export type IncrementalResult = UploadResult & { incremental: IncrementalReport };

/**
 * `upload --incremental`: a normal upload (checkpoint, resume, verification, tags) in which each
 * part whose bytes equal the last pass's is copied by the store from the object at the key, and
 * the rest are sent; Complete replaces the object atomically and the manifest is rewritten after.
 */
export async function uploadIncremental(request: UploadRequest, warn: (sentence: string) => void = () => undefined, changed?: ChangedExtentList): Promise<IncrementalResult> {
  let req = request;
  await checkIncrementalLayout(req.source, req.as, req.from);
  if (changed) await checkChangedBlocksSource(req);
  if (!req.sink.copyPart) {
    throw vmxError(INCR.NO_PART_COPY, `${req.sink.kind}://${req.sink.bucket} cannot copy parts server-side, which --incremental needs`, { file: req.destination });
  }
  const warnings: string[] = [];
  const say = (s: string) => {
    warnings.push(s);
    warn(s);
  };
  const { manifest, base } = await usableManifest(req, say);
  const unused = changed && whyNotChangeList(req, manifest);
  if (changed && manifest && !unused) return changedPass(req, manifest, changed, say, warnings);
  if (unused) say(`${unused}: the change list is not used and the whole source is read`);
  req = await dropChangedCheckpoint(req);
  const copier = new ManifestPartCopier(req.sink, manifest, opaqueEtags(req.uploadOptions?.encryption?.algorithm), say);
  if (manifest && req.partSize !== undefined && req.partSize !== manifest.partSize) {
    say(`--part-size ${req.partSize} ignored: the object was uploaded in parts of ${manifest.partSize} bytes, and only parts of that size can be copied`);
  }
  const result = await uploadImage({ ...req, partSize: manifest?.partSize ?? req.partSize, partCopier: copier });
  const st = await stat(req.source).catch((err) => {
    throw fsError(err, req.source);
  });
  const next: IncrementalManifest = {
    version: 2,
    key: req.key,
    as: req.as,
    partSize: result.partSize,
    objectSize: result.objectSize,
    objectEtag: result.etag,
    source: { path: req.source, size: st.size, mtimeMs: st.mtimeMs },
    parts: copier.manifestParts(result.partSize, result.objectSize),
    writtenAt: new Date().toISOString(),
  };
  // After Complete: a kill in between leaves a manifest whose ETag is not the object's, and the next pass uploads in full.
  await writeManifest(req.sink, next, req.signal);
  return {
    ...result,
    incremental: {
      manifestKey: manifestKey(req.key),
      base,
      partsCopied: result.partsCopied,
      partsSent: result.partsSent,
      bytesCopied: copier.bytesCopied,
      bytesSent: result.bytesSent,
      bytesRead: undefined,
      changeList: false,
      warning: warnings.length ? warnings.join('; ') : undefined,
    },
  };
}

/** Why a change list cannot choose the parts of this pass, or undefined when it can. */
function whyNotChangeList(req: UploadRequest, manifest: IncrementalManifest | undefined): string | undefined {
  if (!manifest) return 'no manifest matches the object, so nothing can be copied';
  if (opaqueEtags(req.uploadOptions?.encryption?.algorithm)) return 'the store encrypts with KMS, so a copied part\'s ETag cannot prove its bytes';
  // The digests of the parts not read come from the manifest; a full-content SHA-256 needs every byte.
  if (req.digest === 'sha256') return '--sha256 tags need a SHA-256 of every byte of the source';
  if (manifest.partSize % DIGEST_BLOCK !== 0) return `the object's parts of ${manifest.partSize} bytes are not whole 512 KiB blocks, so the object's digest cannot be built from them`;
  return undefined;
}

/**
 * A pass that reads the whole source never continues the checkpoint of an interrupted change-list pass
 * (their parts come from different reads): with --resume or in the daemon that checkpoint is replaced.
 */
async function dropChangedCheckpoint(req: UploadRequest): Promise<UploadRequest> {
  if (req.resume === false || req.resume === 'restart') return req;
  const cp = await req.checkpoints.load(checkpointId(req.source, req.destination)).catch(() => undefined);
  if (!cp || !isChangedCheckpoint(cp)) return req;
  await discardCheckpoint(req, cp, 'the interrupted pass read a change list, this one reads the whole source');
  return { ...req, resume: false };
}

/** The manifest when it describes the object now at the key (same size, ETag and format); otherwise a full pass, said aloud. */
async function usableManifest(req: UploadRequest, warn: (s: string) => void): Promise<{ manifest: IncrementalManifest | undefined; base: IncrementalReport['base'] }> {
  const info = await req.sink.head(req.key, req.signal);
  let manifest: IncrementalManifest | undefined;
  try {
    manifest = await readManifest(req.sink, req.key, info?.size ?? 0, req.signal);
  } catch (err) {
    if ((err as { code?: string }).code !== INCR.MANIFEST_CORRUPT.code) throw err;
    warn(`${(err as Error).message}; uploading in full`);
    return { manifest: undefined, base: 'stale-manifest' };
  }
  if (!manifest) return { manifest: undefined, base: 'none' };
  const why = !info
    ? 'the object it describes is gone'
    : info.size !== manifest.objectSize || info.etag !== manifest.objectEtag
      ? `the object is ${info.size} bytes with ETag ${info.etag}, the manifest describes ${manifest.objectSize} bytes with ETag ${manifest.objectEtag} (edited or replaced since)`
      : manifest.as !== req.as
        ? `it describes a ${manifest.as} object, this upload makes ${req.as}`
        : undefined;
  if (!why) return { manifest, base: 'manifest' };
  warn(`the manifest ${manifestKey(req.key)} does not match the object: ${why}; uploading in full`);
  return { manifest: undefined, base: 'stale-manifest' };
}

/** A pass that reads only the parts the change list touches and copies the rest (changed-upload.ts). */
async function changedPass(req: UploadRequest, manifest: IncrementalManifest, changed: ChangedExtentList, warn: (s: string) => void, warnings: string[]): Promise<IncrementalResult> {
  const started = performance.now();
  const st = await stat(req.source).catch((err) => {
    throw fsError(err, req.source);
  });
  const r = await uploadChangedParts(req, manifest, changed, warn);
  await writeManifest(
    req.sink,
    { version: 2, key: req.key, as: req.as, partSize: r.partSize, objectSize: r.objectSize, objectEtag: r.etag, source: { path: req.source, size: st.size, mtimeMs: st.mtimeMs }, parts: r.parts, writtenAt: new Date().toISOString() },
    req.signal,
  );
  req.progress?.phase('done');
  return {
    destination: req.destination,
    key: req.key,
    uploadId: r.uploadId,
    objectSize: r.objectSize,
    parts: r.parts.length,
    partSize: r.partSize,
    partsSent: r.partsSent,
    partsSkipped: r.partsSkipped,
    partsCopied: r.partsCopied,
    bytesSent: r.bytesSent,
    etag: r.etag,
    verified: r.verified,
    // Built from the manifest's block digests and the parts read (block-digests.ts); a raw output is the disk.
    sourceDigest: r.digest,
    outputDigest: r.digest,
    sourceSha256: undefined,
    outputSha256: undefined,
    tags: r.tags,
    seconds: (performance.now() - started) / 1000,
    incremental: {
      manifestKey: manifestKey(req.key),
      base: 'manifest',
      partsCopied: r.partsCopied,
      partsSent: r.partsSent,
      bytesCopied: r.bytesCopied,
      bytesSent: r.bytesSent,
      bytesRead: r.bytesRead,
      changeList: true,
      warning: warnings.length ? warnings.join('; ') : undefined,
    },
  };
}
