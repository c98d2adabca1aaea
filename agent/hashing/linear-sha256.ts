import { createHash } from 'node:crypto';

/**
 * `sha256-linear-512k` (docs/integrity.md): SHA-256 over the concatenated SHA-256s of the content's
 * consecutive 512 KiB blocks (the last one as long as what is left), the "linear" aggregation of the
 * EBS direct APIs' checksums. A full all-zero block's digest is a constant, so holes and zero extents
 * cost 32 bytes of outer hashing per block and are never hashed themselves.
 *
 * Self-contained (its only free name is `createHash`): the hashing thread runs its source text.
 */
export class LinearSha256 {
  static readonly BLOCK = 512 * 1024;
  private readonly outer = createHash('sha256');
  private readonly block = Buffer.alloc(LinearSha256.BLOCK);
  private readonly zero = Buffer.alloc(LinearSha256.BLOCK);
  /** The zero block's digest repeated, so a long zero run is a few outer updates. */
  private readonly zeroDigests: Buffer;
  private fill = 0;

  constructor() {
    const one = createHash('sha256').update(this.zero).digest();
    this.zeroDigests = Buffer.concat(new Array(1024).fill(one));
  }

  update(data: Uint8Array): void {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
    const size = LinearSha256.BLOCK;
    let at = 0;
    while (at < buf.length) {
      if (this.fill === 0 && buf.length - at >= size) {
        this.full(buf.subarray(at, at + size));
        at += size;
        continue;
      }
      const n = Math.min(size - this.fill, buf.length - at);
      buf.copy(this.block, this.fill, at, at + n);
      this.fill += n;
      at += n;
      if (this.fill === size) this.flush();
    }
  }

  zeros(length: number): void {
    const size = LinearSha256.BLOCK;
    let left = length;
    while (left > 0) {
      if (this.fill === 0 && left >= size) {
        const blocks = Math.floor(left / size);
        for (let b = blocks; b > 0; b -= 1024) this.outer.update(this.zeroDigests.subarray(0, Math.min(b, 1024) * 32));
        left -= blocks * size;
        continue;
      }
      const n = Math.min(size - this.fill, left);
      this.block.fill(0, this.fill, this.fill + n);
      this.fill += n;
      left -= n;
      if (this.fill === size) this.flush();
    }
  }

  /**
   * A whole block given by its SHA-256, already computed by the caller (the EBS writer hashes each block
   * once for PutSnapshotBlock); only between whole blocks.
   */
  blockDigest(digest: Uint8Array): void {
    if (this.fill !== 0 || digest.length !== 32) throw new Error('LinearSha256.blockDigest takes a 32-byte digest between whole blocks');
    this.outer.update(digest);
  }

  /** The hex digest; the last, shorter block is hashed as it is. */
  digest(): string {
    if (this.fill > 0) this.outer.update(createHash('sha256').update(this.block.subarray(0, this.fill)).digest());
    this.fill = 0;
    return this.outer.digest('hex');
  }

  private flush(): void {
    this.full(this.block);
    this.fill = 0;
  }

  private full(block: Buffer): void {
    this.outer.update(block.equals(this.zero) ? this.zeroDigests.subarray(0, 32) : createHash('sha256').update(block).digest());
  }
}
