import type { UploadPartCommand } from '@aws-sdk/client-s3';

/** The SigV4 payload hash value that tells S3 the body is not covered by the signature. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/**
 * Makes an UploadPart request carry `x-amz-content-sha256: UNSIGNED-PAYLOAD`, so the SDK does not
 * compute a SHA-256 of every part body to sign it (it does over plain HTTP and HTTPS alike: about
 * 0.8 CPU-seconds per GiB here, bench/README.md "Transfer"). @smithy/signature-v4's getPayloadHash
 * uses an x-amz-content-sha256 header that is already present instead of hashing the body.
 *
 * Integrity does not depend on that hash: every part carries Content-MD5, which S3 checks before
 * storing the part (BadDigest otherwise), and the engine compares the returned ETag and, after
 * Complete, the multipart ETag with its own MD5s. S3 accepts UNSIGNED-PAYLOAD for single-chunk
 * uploads (S3 API reference, "Signature Calculations for the Authorization Header: Transferring
 * Payload in a Single Chunk"). What the signature no longer covers is the body against tampering by
 * a party that can also rewrite Content-MD5: over HTTPS, TLS covers that; `signPayload: true` on
 * the sink restores the signed hash for plain-HTTP endpoints where that matters.
 */
export function sendUnsignedPayload(command: UploadPartCommand): UploadPartCommand {
  return sendPayloadHash(command, UNSIGNED_PAYLOAD);
}

/** Makes the request carry `x-amz-content-sha256: value`, which the signer uses instead of hashing the body. */
export function sendPayloadHash(command: UploadPartCommand, value: string): UploadPartCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = value;
      return next(args);
    },
    { step: 'build', name: 'vmxferUnsignedPayload' },
  );
  return command;
}
