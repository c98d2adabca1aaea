import { defineErrorCodes } from '../core/errors.js';

/**
 * Object-store failures, the same codes for every store (file, S3, OSS). Permanent ones carry
 * `retryable: false`; the transient ones (`STORE_SERVER_BUSY`, `STORE_SERVER_ERROR`, `STORE_NETWORK`, `STORE_STALLED`)
 * carry `retryable: true` so a retry decorator can tell them apart without knowing the store
 * (one classification for every store: store-errors.ts).
 */
export const STORE = defineErrorCodes('STORE', {
  BAD_URL: { category: 'usage', summary: 'An object URL is malformed or names an unknown scheme (expected s3://bucket/key, oss://bucket/key or file:///path).' },
  BAD_KEY: { category: 'usage', summary: 'An object key is empty, absolute, contains "." or ".." segments, or names a reserved path.' },
  BAD_PART_NUMBER: { category: 'usage', summary: 'A part number is outside 1..maxParts or a part is larger than the store allows.' },
  BAD_RANGE: { category: 'usage', summary: 'A requested byte range is negative, reversed or extends past the end of the object.' },
  CONFIG: { category: 'usage', summary: 'The store client is misconfigured (no region, no credentials, a host name that does not resolve, an endpoint that does not implement the operation).' },
  BAD_OPTION: { category: 'usage', summary: "An upload option (storage class, encryption, tag, metadata) breaks the store's rules." },
  ACCESS_DENIED: { category: 'remote', summary: 'The store refused the request for lack of permission (AccessDenied).' },
  INVALID_ACCESS_KEY: { category: 'remote', summary: 'The store does not know the access key id (InvalidAccessKeyId).' },
  SIGNATURE_MISMATCH: { category: 'remote', summary: 'The request signature does not match: wrong secret key or clock skew (SignatureDoesNotMatch).' },
  NO_SUCH_BUCKET: { category: 'remote', summary: 'The bucket (or local directory) does not exist (NoSuchBucket).' },
  NO_SUCH_KEY: { category: 'remote', summary: 'The object does not exist (NoSuchKey).' },
  NO_SUCH_UPLOAD: { category: 'remote', summary: 'The multipart upload does not exist: completed, aborted or expired (NoSuchUpload).' },
  PRECONDITION_FAILED: { category: 'remote', summary: 'A conditional request found the object changed: its ETag is no longer the one named (PreconditionFailed, 412).' },
  ENTITY_TOO_SMALL: { category: 'remote', summary: 'A part other than the last is smaller than the store minimum (EntityTooSmall).' },
  INVALID_PART: { category: 'remote', summary: 'Complete named a part that was not uploaded or whose ETag differs (InvalidPart).' },
  INVALID_PART_ORDER: { category: 'remote', summary: 'Complete listed parts out of ascending order or twice (InvalidPartOrder).' },
  BAD_DIGEST: { category: 'integrity', summary: "A part's bytes do not match the checksum sent with it (Content-MD5, x-amz-checksum-crc64nvme: BadDigest) or OSS's CRC-64 of what arrived differs from the part's: it was corrupted on the way." },
  ETAG_MISMATCH: { category: 'integrity', summary: "The store's ETag for a part differs from the MD5 of the bytes sent." },
  SIZE_MISMATCH: { category: 'integrity', summary: 'The store reports an object or range size other than the bytes sent or asked for.' },
  CORRUPT_STATE: { category: 'integrity', summary: "The file sink's own bookkeeping (an upload manifest or metadata sidecar) is unreadable." },
  REQUEST_REJECTED: { category: 'remote', summary: 'The store refused the request for another permanent reason (its code is in the message).' },
  SERVER_BUSY: { category: 'remote', summary: 'The store asked to slow down or is unavailable (SlowDown, 503): retryable.' },
  SERVER_ERROR: { category: 'remote', summary: 'The store failed internally or timed out the request (5xx, RequestTimeout): retryable.' },
  NETWORK: { category: 'remote', summary: 'The connection to the store failed (refused, reset, timed out): retryable.' },
  STALLED: { category: 'remote', summary: 'No byte moved on a request to the store for the stall timeout (--stall-timeout), or a part took longer than its size allows at the floor rate: retryable.' },
  BAD_RESPONSE: { category: 'remote', summary: "The store's answer lacks a field the protocol requires, or is larger than the sink accepts." },
});
