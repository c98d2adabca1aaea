import { open, stat, type FileHandle } from 'node:fs/promises';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

/** A read-only file with positional reads that fail with a typed error instead of returning short. */
export class RandomAccessFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly size: number,
    readonly mtimeMs: number,
    /** Where this view starts in the file: 0, or a tar member's body (openWindow). */
    private readonly base = 0,
  ) {}

  static async open(path: string): Promise<RandomAccessFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw fsError(err, path);
    }
    const st = await fh.stat();
    if (!st.isFile() && !st.isBlockDevice()) {
      await fh.close();
      throw vmxError(CORE.IO, `not a regular file or block device`, { file: path });
    }
    return new RandomAccessFile(path, fh, st.size, st.mtimeMs);
  }

  /**
   * A view of `length` bytes of the file from `offset` on (an OVA's disk member, whose body is a byte
   * range of the archive: POSIX ustar stores member bodies unencoded); positions are the view's own.
   */
  static async openWindow(path: string, offset: number, length: number): Promise<RandomAccessFile> {
    const whole = await RandomAccessFile.open(path);
    if (offset < 0 || offset + length > whole.size) {
      await whole.close();
      throw vmxError(CORE.TRUNCATED, `the range [${offset}, ${offset + length}) extends past the end of the file (size ${whole.size})`, { file: path, offset });
    }
    return new RandomAccessFile(path, whole.fh, length, whole.mtimeMs, offset);
  }

  /** Reads exactly `length` bytes at `position`; `what` names the structure for the error message. */
  async read(position: number, length: number, what = 'data'): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    await this.readInto(buf, position, what);
    return buf;
  }

  async readInto(buf: Buffer, position: number, what = 'data'): Promise<void> {
    if (position < 0 || position + buf.length > this.size) {
      throw vmxError(CORE.TRUNCATED, `${what} (${buf.length} bytes) extends past the end of the file (size ${this.size})`, {
        file: this.path,
        offset: position,
      });
    }
    let done = 0;
    while (done < buf.length) {
      let n: number;
      try {
        ({ bytesRead: n } = await this.fh.read(buf, done, buf.length - done, this.base + position + done));
      } catch (err) {
        throw fsError(err, this.path, this.base + position + done);
      }
      if (n === 0) {
        throw vmxError(CORE.TRUNCATED, `${what} ends early: the file shrank while being read`, { file: this.path, offset: this.base + position + done });
      }
      done += n;
    }
  }

  /** The descriptor, for lseek-based hole detection (file-data-ranges.ts) of a whole file (not a window); reads stay positional. */
  get fd(): number {
    return this.fh.fd;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

export function fsError(err: unknown, file: string, offset?: number) {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return vmxError(CORE.FILE_NOT_FOUND, `file does not exist`, { file, cause: err });
  const msg = (err as Error)?.message ?? String(err);
  return vmxError(CORE.IO, `I/O error: ${msg}`, { file, offset, cause: err });
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
