import { defineErrorCodes } from '../../core/errors.js';

/**
 * Errors of the OSS sink. Store-reported failures keep OSS's own error code in the message; the
 * `retryable` flag on each thrown error tells the retry decorator whether trying again can help.
 */
export const OSS = defineErrorCodes('OSS', {
  CONFIG: { category: 'usage', summary: 'The OSS sink is missing a bucket, an endpoint/region or credentials (OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET).' },
  BAD_REQUEST: { category: 'usage', summary: 'A request the sink was asked to make breaks an OSS limit (part number, part size, empty part list, range).' },
  ACCESS_DENIED: { category: 'remote', summary: 'OSS refused the request (AccessDenied): the credentials lack permission for the bucket or key.' },
  INVALID_ACCESS_KEY_ID: { category: 'remote', summary: 'OSS does not know the AccessKeyId (InvalidAccessKeyId).' },
  SIGNATURE_MISMATCH: { category: 'remote', summary: 'OSS computed a different request signature (SignatureDoesNotMatch): usually a wrong AccessKeySecret.' },
  NO_SUCH_BUCKET: { category: 'remote', summary: 'The OSS bucket does not exist (NoSuchBucket).' },
  NO_SUCH_KEY: { category: 'remote', summary: 'The OSS object does not exist (NoSuchKey).' },
  NO_SUCH_UPLOAD: { category: 'remote', summary: 'The multipart upload does not exist: it was aborted, completed, or expired (NoSuchUpload).' },
  INVALID_DIGEST: { category: 'integrity', summary: 'OSS received a part whose MD5 differs from its Content-MD5 (InvalidDigest): the body was corrupted in transit.' },
  INVALID_PART: { category: 'remote', summary: 'CompleteMultipartUpload named a part OSS does not have, or with another ETag (InvalidPart).' },
  INVALID_PART_ORDER: { category: 'remote', summary: 'CompleteMultipartUpload listed parts out of ascending order (InvalidPartOrder).' },
  ENTITY_TOO_SMALL: { category: 'remote', summary: 'A part other than the last is smaller than OSS\'s 100 KB minimum (EntityTooSmall).' },
  REJECTED: { category: 'remote', summary: 'OSS rejected the request with another 4xx error; the message carries OSS\'s code.' },
  TRANSIENT: { category: 'remote', summary: 'A transient OSS failure (5xx, ServerBusy/throttling, connection reset, timeout): retrying may succeed.' },
  ETAG_MISMATCH: { category: 'integrity', summary: 'OSS returned an ETag for a part that is not the MD5 of the bytes sent.' },
  BAD_RESPONSE: { category: 'remote', summary: 'An OSS response lacks a field the protocol requires, or is larger than the sink accepts.' },
});
