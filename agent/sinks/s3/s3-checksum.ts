/**
 * Which part checksum an S3 sink sends. AWS S3 verifies x-amz-checksum-crc64nvme on UploadPart
 * (S3 User Guide, "Checking object integrity in Amazon S3") and folds the parts of a FULL_OBJECT
 * upload into the object's CRC-64/NVME; a CRC costs a fraction of an MD5. S3-compatible stores
 * need not: Ceph RGW of Debian accepts a part whose x-amz-checksum-* is wrong
 * (test/sinks/rgw-checksums.test.ts) but refuses a wrong Content-MD5. So the default follows the
 * endpoint: AWS's own (none given, or a host under amazonaws.com) gets crc64nvme, any other gets
 * md5; a store profile's `checksum` or `--store-checksum` overrides it (docs/integrity.md).
 */
export type S3PartChecksum = 'md5' | 'crc64nvme';

export const S3_PART_CHECKSUMS: readonly S3PartChecksum[] = ['md5', 'crc64nvme'];

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
  return isAwsEndpoint(endpoint, env) ? 'crc64nvme' : 'md5';
}
