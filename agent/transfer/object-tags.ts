import { vmxError } from '../core/errors.js';
import { TRANSFER } from './error-codes.js';

/** SHA-256 (hex) of the object's bytes as uploaded: download checks the bytes against it. */
export const SHA256_TAG = 'vmxfer-sha256';
/** SHA-256 (hex) of the source's virtual disk content, when the pipeline reports it. */
export const SOURCE_SHA256_TAG = 'vmxfer-source-sha256';
/** S3 "Categorizing your storage using tags" and OSS "Object tagging": at most 10 tags per object. */
export const MAX_OBJECT_TAGS = 10;
const RESERVED = [SHA256_TAG, SOURCE_SHA256_TAG];

/**
 * The user's --tag values must leave room for vmxfer's two tags and not use their keys: refused
 * before anything is sent rather than dropping a tag silently after the upload.
 */
export function checkUserTags(tags: Record<string, string> | undefined): void {
  const keys = Object.keys(tags ?? {});
  const reserved = keys.find((k) => k.toLowerCase().startsWith('vmxfer-'));
  if (reserved !== undefined) throw vmxError(TRANSFER.TAGS, `tag key "${reserved}" is reserved: vmxfer writes ${RESERVED.join(' and ')} itself`);
  const room = MAX_OBJECT_TAGS - RESERVED.length;
  if (keys.length > room) {
    throw vmxError(TRANSFER.TAGS, `${keys.length} --tag values given; S3 and OSS allow ${MAX_OBJECT_TAGS} tags per object and vmxfer uses ${RESERVED.length} (${RESERVED.join(', ')}), so at most ${room} remain`);
  }
}

/**
 * The complete tag set written after a verified upload (PutObjectTagging replaces the whole set,
 * so the user's tags are part of it). Returns undefined when there is nothing to add.
 */
export function integrityTags(user: Record<string, string> | undefined, objectSha256: string | undefined, sourceSha256: string | undefined): Record<string, string> | undefined {
  if (objectSha256 === undefined && sourceSha256 === undefined) return undefined;
  return {
    ...(user ?? {}),
    ...(objectSha256 !== undefined ? { [SHA256_TAG]: objectSha256 } : {}),
    ...(sourceSha256 !== undefined ? { [SOURCE_SHA256_TAG]: sourceSha256 } : {}),
  };
}

/** The object SHA-256 a store's tags record, if any; a malformed value is returned as it is and fails the comparison. */
export function taggedSha256(tags: Record<string, string>): string | undefined {
  return tags[SHA256_TAG];
}
