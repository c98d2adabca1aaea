import { vmxError } from '../core/errors.js';
import { TRANSFER } from './error-codes.js';
import { parseDigest } from '../hashing/content-digest.js';

/** The object's digest, `<kind>:<hex>` (docs/integrity.md), written unless --sha256 asks for SHA256_TAG. */
export const DIGEST_TAG = 'vmxfer-digest';
/** The source's virtual content's digest, `<kind>:<hex>`. */
export const SOURCE_DIGEST_TAG = 'vmxfer-source-digest';

/** SHA-256 (hex) of the object's bytes as uploaded (with --sha256, and by vmxfer before the digest tags): download checks the bytes against it. */
export const SHA256_TAG = 'vmxfer-sha256';
/** SHA-256 (hex) of the source's virtual disk content, when the pipeline reports it. */
export const SOURCE_SHA256_TAG = 'vmxfer-source-sha256';
/** S3 "Categorizing your storage using tags" and OSS "Object tagging": at most 10 tags per object. */
export const MAX_OBJECT_TAGS = 10;
const RESERVED = [DIGEST_TAG, SOURCE_DIGEST_TAG];

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
export function integrityTags(user: Record<string, string> | undefined, objectDigest: string | undefined, sourceDigest: string | undefined): Record<string, string> | undefined {
  if (objectDigest === undefined && sourceDigest === undefined) return undefined;
  return { ...(user ?? {}), ...digestTag(objectDigest, SHA256_TAG, DIGEST_TAG), ...digestTag(sourceDigest, SOURCE_SHA256_TAG, SOURCE_DIGEST_TAG) };
}

/** A full SHA-256 keeps the tag older vmxfers and `sha256sum` users read (bare hex); other kinds are labelled. */
function digestTag(labelled: string | undefined, sha256Key: string, digestKey: string): Record<string, string> {
  if (labelled === undefined) return {};
  const parsed = parseDigest(labelled);
  return parsed?.kind === 'sha256' ? { [sha256Key]: parsed.hex } : { [digestKey]: labelled };
}

/**
 * The object digest a store's tags record (`<kind>:<hex>`), if any: vmxfer-digest, else the older
 * vmxfer-sha256 read as `sha256:<hex>`. A malformed value is returned as it is and fails the comparison.
 */
export function taggedDigest(tags: Record<string, string>): string | undefined {
  if (tags[DIGEST_TAG] !== undefined) return tags[DIGEST_TAG];
  return tags[SHA256_TAG] === undefined ? undefined : `sha256:${tags[SHA256_TAG]}`;
}
