import { createContentDigest, parseDigest, type DigestKind } from '../hashing/content-digest.js';
import { open } from 'node:fs/promises';
import { throwIfAborted } from '../core/abort.js';
import { isVmxferError, vmxError } from '../core/errors.js';
import { fsError } from '../io/random-access-file.js';
import { STORE } from '../sinks/error-codes.js';
import type { ObjectInfo, ObjectSink } from '../sinks/object-sink.js';
import { TRANSFER } from './error-codes.js';
import { DIGEST_TAG, SHA256_TAG, taggedDigest } from './object-tags.js';

/**
 * True for an object a vmxfer upload created: its metadata, fixed at CreateMultipartUpload, names
 * the format it was written as (upload.ts). Only those carry vmxfer's tags, so other objects (cloud
 * exports, anything written by other tools) cost no GetObjectTagging request.
 */
export function uploadedByVmxfer(info: ObjectInfo): boolean {
  return info.metadata?.['vmxfer-format'] !== undefined;
}

/**
 * The digest (`<kind>:<hex>`) an upload by vmxfer recorded in the object's `vmxfer-digest` or older
 * `vmxfer-sha256` tag, if any. Credentials
 * allowed to read the object but not its tags (s3:GetObjectTagging missing) get no tag check rather
 * than a failed download; every other failure is the store's error.
 */
export async function expectedObjectSha256(sink: ObjectSink, key: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return taggedDigest(await sink.getTags(key, signal));
  } catch (err) {
    if (isVmxferError(err) && (err.code === STORE.ACCESS_DENIED.code)) return undefined;
    throw err;
  }
}

/** The kind to compute for a tagged digest; an unknown label is computed as the default and fails the comparison. */
export function expectedKind(expected: string): DigestKind {
  return parseDigest(expected)?.kind ?? 'sha256-linear-512k';
}

export function checkObjectSha256(actual: string, expected: string, where: string): void {
  if (actual !== expected) {
    const tag = expected.startsWith('sha256:') ? SHA256_TAG : DIGEST_TAG;
    throw vmxError(TRANSFER.SHA256_MISMATCH, `the downloaded bytes have digest ${actual}, but the object's ${tag} tag (written when it was uploaded) says ${expected}`, { file: where });
  }
}

/** The digest (`<kind>:<hex>`) of a downloaded file, read sequentially through one 4 MiB buffer. */
export async function fileSha256(path: string, kind: DigestKind, signal?: AbortSignal): Promise<string> {
  const fh = await open(path, 'r').catch((err) => {
    throw fsError(err, path);
  });
  try {
    const hash = createContentDigest(kind);
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (let pos = 0; ; ) {
      throwIfAborted(signal);
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return hash.digest();
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
