/**
 * Which part checksum an S3 sink sends. AWS S3 verifies x-amz-checksum-crc32c and
 * x-amz-checksum-crc64nvme on UploadPart and, for a FULL_OBJECT upload, folds the parts into the
 * object's checksum of the same algorithm (S3 User Guide, "Checking object integrity in Amazon S3":
 * the full object type is supported for CRC-64/NVME, CRC-32 and CRC-32C). CRC-32C is the default
 * there: native (SSE4.2) at ~3.4 GB per CPU-second against ~1.1 for CRC-64 in WebAssembly and ~0.5
 * for MD5 (bench/README.md "Hashing"). S3-compatible stores need not verify either: Ceph RGW of
 * Debian accepts a part whose x-amz-checksum-* is wrong (test/sinks/rgw-checksums.test.ts) but
 * refuses a wrong Content-MD5. So the default follows the endpoint: AWS's own (none given, or a host
 * under amazonaws.com) gets crc32c, any other gets md5; a store profile's `checksum` or
 * `--store-checksum` overrides it (docs/integrity.md).
 */
export type S3PartChecksum = 'md5' | 'crc32c' | 'crc64nvme';

export const S3_PART_CHECKSUMS: readonly S3PartChecksum[] = ['md5', 'crc32c', 'crc64nvme'];

const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?$/i;

/** The endpoint the SDK will use: the configured one, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS. */
export function isAwsEndpoint(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const url = endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (url === undefined || url === '') return true;
  try {
    return AWS_HOST.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

export function defaultS3Checksum(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): S3PartChecksum {
  return isAwsEndpoint(endpoint, env) ? 'crc32c' : 'md5';
}
