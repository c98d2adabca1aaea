import { isVmxferError, vmxError } from '../core/errors.js';
import { STORE } from '../sinks/error-codes.js';
import type { ObjectSink, PartRef } from '../sinks/object-sink.js';
import { TRANSFER } from './error-codes.js';

/** Sends of one part after the store found its bytes corrupted on the way (BadDigest / ETag mismatch). */
export const DIGEST_ATTEMPTS = 4;

/** The store's verdicts that mean "the bytes changed in transit"; the part in memory is intact. */
function isTransitCorruption(err: unknown): boolean {
  const codes = [STORE.BAD_DIGEST, STORE.ETAG_MISMATCH].map((c) => c.code);
  return isVmxferError(err) && codes.includes(err.code);
}

/**
 * Uploads one part. The sink (behind its retry decorator) already retries transient failures;
 * a digest mismatch is permanent for the sink but not for the engine, which computed the MD5 from
 * the very buffer it sends again: the copy in memory is good, the one that arrived was not.
 */
export async function sendPart(
  sink: ObjectSink,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Buffer,
  signal: AbortSignal | undefined,
  onCorrupted?: (attempt: number, err: unknown) => void,
): Promise<PartRef> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sink.uploadPart(key, uploadId, partNumber, body, signal);
    } catch (err) {
      if (!isTransitCorruption(err)) throw err;
      if (attempt >= DIGEST_ATTEMPTS) {
        throw vmxError(TRANSFER.RETRIES_EXHAUSTED, `part ${partNumber} arrived corrupted ${attempt} times in a row: ${(err as Error).message}`, { cause: err });
      }
      onCorrupted?.(attempt, err);
    }
  }
}
