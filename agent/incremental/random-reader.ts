import { vmxError } from '../core/errors.js';
import { detectFormat, openDisk } from '../formats/detect.js';
import { Qcow2Disk } from '../formats/qcow2/qcow2-disk.js';
import { RandomAccessFile } from '../io/random-access-file.js';
import { INCR } from './error-codes.js';

/** Random reads of a source's virtual disk: the only reads a change-list pass makes. */
export interface RandomReader {
  size: number;
  read(offset: number, length: number, what: string): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * The sources a change-list pass can read at random: a raw file in place, a qcow2 image without a
 * backing file through its L2 tables (Qcow2Disk.readAt). Any other is refused (INCR_LAYOUT).
 */
export async function openRandomReader(path: string, from: string | undefined, signal?: AbortSignal): Promise<RandomReader> {
  const format = from ?? (await detectFormat(path)).name;
  if (format === 'raw') {
    const file = await RandomAccessFile.open(path);
    return { size: file.size, read: (o, n, what) => file.read(o, n, what), close: () => file.close() };
  }
  if (format !== 'qcow2') throw vmxError(INCR.LAYOUT, `a changed-block pass reads only the changed ranges of a raw file or a qcow2 image; this is a ${format} source`, { file: path });
  const disk = await openDisk(path, { format, signal });
  if (!(disk instanceof Qcow2Disk) || disk.info.parent) {
    await disk.close();
    throw vmxError(INCR.LAYOUT, 'a changed-block pass reads a qcow2 image at random, which vmxfer does only for an image without a backing file', { file: path });
  }
  return {
    size: disk.virtualSize,
    async read(o, n) {
      const buf = Buffer.allocUnsafe(n);
      await disk.readAt(o, buf);
      return buf;
    },
    close: () => disk.close(),
  };
}
