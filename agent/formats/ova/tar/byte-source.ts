import type { Readable } from 'node:stream';
import { CORE } from '../../../core/error-codes.js';
import { isVmxferError, vmxError } from '../../../core/errors.js';

/**
 * Forward-only reads from a non-seekable stream. `readSome` hands out views of incoming chunks
 * without copying (member bodies); `readExact` gathers small structures (header blocks). At most
 * one incoming chunk is held beyond what a caller asked for, so memory is the stream's chunk size.
 */
export class ByteSource {
  private readonly iter: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes consumed so far: the archive offset of the next byte. */
  position = 0;

  constructor(stream: Readable, private readonly name: string) {
    this.iter = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Up to `max` bytes (a view of one chunk); empty only at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.fill())) return this.pending;
    const out = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(out.length);
    this.position += out.length;
    return out;
  }

  /** Exactly `n` bytes, or fewer only when the stream ends first. */
  async readExact(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const piece = await this.readSome(n - got);
      if (piece.length === 0) break;
      parts.push(piece);
      got += piece.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  async close(): Promise<void> {
    this.ended = true;
    this.pending = Buffer.alloc(0);
    await this.iter.return?.().catch(() => undefined);
  }

  private async fill(): Promise<boolean> {
    while (this.pending.length === 0 && !this.ended) {
      let r: IteratorResult<Buffer>;
      try {
        r = await this.iter.next();
      } catch (err) {
        if (isVmxferError(err)) throw err;
        throw vmxError(CORE.IO, `reading the archive failed: ${(err as Error).message}`, { file: this.name, offset: this.position, cause: err });
      }
      if (r.done) this.ended = true;
      else this.pending = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
    return this.pending.length > 0;
  }
}
