import type { Readable } from 'node:stream';
import { isVmxferError, vmxError } from '../../core/errors.js';
import { CORE } from '../../core/error-codes.js';

/**
 * Forward-only reads from a non-seekable stream: exact-length reads and skips, holding at most
 * one incoming chunk beyond what the caller asked for.
 */
export class StreamBytes {
  private readonly iter: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes consumed so far: the position of the next byte in the stream. */
  position = 0;

  constructor(stream: Readable, private readonly name: string) {
    this.iter = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** `n` bytes, or fewer only when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = this.pending.subarray(0, n - got);
      parts.push(take);
      got += take.length;
      this.pending = this.pending.subarray(take.length);
    }
    this.position += got;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  /** Discards `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.fill())) {
      const k = Math.min(n - skipped, this.pending.length);
      this.pending = this.pending.subarray(k);
      skipped += k;
    }
    this.position += skipped;
    return skipped;
  }

  async close(): Promise<void> {
    await this.iter.return?.().catch(() => undefined);
  }

  private async fill(): Promise<boolean> {
    while (this.pending.length === 0 && !this.done) {
      let r: IteratorResult<Buffer>;
      try {
        r = await this.iter.next();
      } catch (err) {
        // A typed error from the source (a truncated tar member, a store failure) is already the
        // right verdict and exit code; only untyped stream failures are I/O errors.
        if (isVmxferError(err)) throw err;
        throw vmxError(CORE.IO, `reading the stream failed: ${(err as Error).message}`, { file: this.name, offset: this.position, cause: err });
      }
      if (r.done) this.done = true;
      else this.pending = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
    return this.pending.length > 0;
  }
}
