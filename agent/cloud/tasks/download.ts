import { vmxError } from '../../core/errors.js';
import { throwIfAborted } from '../../core/abort.js';
import { CORE } from '../../core/error-codes.js';
import { writeStreamToFile } from '../../io/file-output.js';
import type { ObjectReader } from '../object-reader.js';
import { CLOUD } from '../error-codes.js';

export interface DownloadResult {
  key: string;
  bytes: number;
  sha256: string;
}

export interface DownloadOptions {
  /** Bytes per ranged GET; memory held is one part. */
  partSize: number;
  signal?: AbortSignal | undefined;
  onBytes?: ((n: number) => void) | undefined;
}

export const DEFAULT_DOWNLOAD_PART = 16 * 1024 * 1024;

/**
 * Downloads one object with ranged GETs of `partSize` into `dst` (written through a temporary file
 * renamed into place only when every byte arrived, holes where the object is zero).
 */
export async function downloadObject(reader: ObjectReader, key: string, dst: string, opts: DownloadOptions): Promise<DownloadResult> {
  const info = await reader.head(key, opts.signal);
  if (!info) throw vmxError(CORE.FILE_NOT_FOUND, `the export finished but object ${key} does not exist in the bucket`);
  const size = info.size;
  async function* parts(): AsyncGenerator<Buffer> {
    for (let start = 0; start < size; start += opts.partSize) {
      throwIfAborted(opts.signal);
      const end = Math.min(size, start + opts.partSize);
      const body = await reader.getRange(key, start, end, opts.signal);
      if (body.length !== end - start) {
        throw vmxError(CLOUD.DOWNLOAD_SIZE, `${key}: bytes ${start}-${end} returned ${body.length} bytes, expected ${end - start}`, { offset: start });
      }
      yield body;
    }
  }
  const out = await writeStreamToFile(dst, parts(), { signal: opts.signal, onWrite: opts.onBytes });
  if (out.bytes !== size) throw vmxError(CLOUD.DOWNLOAD_SIZE, `${key}: wrote ${out.bytes} bytes, the store reports ${size}`, { file: dst });
  return { key, bytes: out.bytes, sha256: out.sha256 };
}
