import { createHash, type Hash } from 'node:crypto';

/**
 * Cryptographic digests through node:crypto (OpenSSL: SHA-NI makes SHA-256/SHA-1 ~3-7x faster than
 * hash-wasm here, MD5 ~1.4x; see bench/README.md "## Hashing"). SHA-256 identifies disk content,
 * MD5 is S3/OSS Content-MD5 (base64), SHA-1 is the OVF manifest digest of older OVAs.
 */
export type DigestAlgorithm = 'sha256' | 'sha1' | 'md5';

export type DigestEncoding = 'hex' | 'base64';

export function createDigest(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

/** Digest of `data` (whole or as consecutive pieces). */
export function digestOf(algorithm: DigestAlgorithm, data: Uint8Array | readonly Uint8Array[], encoding: DigestEncoding = 'hex'): string {
  const hash = createHash(algorithm);
  for (const piece of data instanceof Uint8Array ? [data] : data) hash.update(piece);
  return hash.digest(encoding);
}
