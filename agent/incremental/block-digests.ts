import { createHash } from 'node:crypto';

/** docs/integrity.md "sha256-linear-512k": the block every digest of the object is built from. */
export const DIGEST_BLOCK = 512 * 1024;

const ZERO_BLOCK = Buffer.alloc(DIGEST_BLOCK);
const ZERO_DIGEST = createHash('sha256').update(ZERO_BLOCK).digest();

/**
 * The SHA-256 (32 bytes each, concatenated) of a part's consecutive 512 KiB blocks, the last one as
 * long as what is left. A full all-zero block is the constant digest and is not hashed.
 */
export function blockDigests(body: Uint8Array): Buffer {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  const count = Math.ceil(buf.length / DIGEST_BLOCK);
  const out = Buffer.allocUnsafe(count * 32);
  for (let i = 0; i < count; i++) {
    const block = buf.subarray(i * DIGEST_BLOCK, Math.min(buf.length, (i + 1) * DIGEST_BLOCK));
    const digest = block.length === DIGEST_BLOCK && block.equals(ZERO_BLOCK) ? ZERO_DIGEST : createHash('sha256').update(block).digest();
    digest.copy(out, i * 32);
  }
  return out;
}

/** The part's own sha256-linear-512k digest (hex), what two passes compare: SHA-256 over its block digests. */
export function partDigest(blocks: Buffer): string {
  return createHash('sha256').update(blocks).digest('hex');
}

/** How many block digests a part of `size` bytes has. */
export function blockCount(size: number): number {
  return Math.ceil(size / DIGEST_BLOCK);
}

/**
 * The object's `sha256-linear-512k` digest from its parts' block digests in order: the same value the
 * upload pipeline computes by reading every byte, when every part but the last is a whole number of
 * blocks (so each part's blocks are the object's).
 */
export function objectDigest(parts: Buffer[]): string {
  const outer = createHash('sha256');
  for (const p of parts) outer.update(p);
  return `sha256-linear-512k:${outer.digest('hex')}`;
}
