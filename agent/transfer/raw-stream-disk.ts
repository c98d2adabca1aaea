import { DEFAULT_MAX_DATA_EXTENT, type DiskInfo, type DiskSource, type ExtentReadOptions } from '../disk/disk-source.js';
import { dataExtent, type Extent } from '../disk/extent.js';
import { throwIfAborted } from '../core/abort.js';
import { InternalError } from '../core/errors.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

/**
 * A raw disk read once, front to back, from an ordered byte stream (a downloaded object): every
 * byte is data, cut into extents of at most maxDataLength. Zero detection is the writer's business.
 */
export class RawStreamDisk implements DiskSource {
  readonly info: DiskInfo;
  private consumed = false;

  constructor(
    private readonly chunks: AsyncIterable<Buffer>,
    readonly virtualSize: number,
    private readonly name: string,
  ) {
    this.info = { format: 'raw', virtualSize, files: [name], warnings: [] };
  }

  async *extents(opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
    if (this.consumed) throw new InternalError(CORE.INTERNAL, `${this.name} is a stream and can be read only once`);
    this.consumed = true;
    const max = opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT;
    let pos = 0;
    for await (const chunk of this.chunks) {
      for (let off = 0; off < chunk.length; off += max) {
        throwIfAborted(opts.signal);
        const piece = chunk.subarray(off, Math.min(chunk.length, off + max));
        const data = opts.allocate ? opts.allocate(piece.length) : piece;
        if (data !== piece) piece.copy(data);
        yield dataExtent(pos, data);
        pos += piece.length;
      }
    }
    if (pos !== this.virtualSize) {
      throw vmxError(CORE.TRUNCATED, `the stream ended after ${pos} of ${this.virtualSize} bytes`, { file: this.name, offset: pos });
    }
  }

  async close(): Promise<void> {}
}
