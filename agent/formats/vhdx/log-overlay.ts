import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import type { ImageBytes } from './image-bytes.js';

/** One write the replayed log makes: `data` of the given length, or zeros when `data` is null. */
export interface LogWrite {
  readonly fileOffset: number;
  readonly length: number;
  readonly data: Buffer | null;
}

/**
 * The file with its log applied in memory ([MS-VHDX] §2.3.3 "Log Replay"): reads come from the file,
 * then every log write overlapping the range is applied in log order, later writes winning. The file
 * itself is never written. Beyond the file's end (up to LastFileOffset) reads are zeros, as the spec's
 * replay extends the file.
 */
export class ReplayedImage implements ImageBytes {
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    private readonly file: RandomAccessFile,
    private readonly writes: readonly LogWrite[],
    readonly size: number,
  ) {
    this.lo = writes.reduce((m, w) => Math.min(m, w.fileOffset), Infinity);
    this.hi = writes.reduce((m, w) => Math.max(m, w.fileOffset + w.length), 0);
  }

  get path(): string {
    return this.file.path;
  }

  async read(position: number, length: number, what: string): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    await this.readInto(buf, position, what);
    return buf;
  }

  async readInto(buf: Buffer, position: number, what: string): Promise<void> {
    const inFile = Math.max(0, Math.min(buf.length, this.file.size - position));
    if (position < 0 || position + buf.length > this.size) {
      throw vmxError(CORE.TRUNCATED, `${what} (${buf.length} bytes) extends past the end of the file as its log describes it (size ${this.size})`, {
        file: this.path,
        offset: position,
      });
    }
    if (inFile > 0) await this.file.readInto(buf.subarray(0, inFile), position, what);
    buf.fill(0, inFile);
    if (position + buf.length <= this.lo || position >= this.hi) return;
    for (const w of this.writes) applyWrite(buf, position, w);
  }
}

function applyWrite(buf: Buffer, position: number, w: LogWrite): void {
  const start = Math.max(position, w.fileOffset);
  const end = Math.min(position + buf.length, w.fileOffset + w.length);
  if (start >= end) return;
  if (w.data === null) buf.fill(0, start - position, end - position);
  else w.data.copy(buf, start - position, start - w.fileOffset, end - w.fileOffset);
}

/** The file as it is, when the header names no log. */
export class PlainImage implements ImageBytes {
  constructor(private readonly file: RandomAccessFile) {}
  get path(): string {
    return this.file.path;
  }
  get size(): number {
    return this.file.size;
  }
  read(position: number, length: number, what: string): Promise<Buffer> {
    return this.file.read(position, length, what);
  }
  readInto(buf: Buffer, position: number, what: string): Promise<void> {
    return this.file.readInto(buf, position, what);
  }
}
