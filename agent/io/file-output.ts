import { createContentDigest, DEFAULT_DIGEST, sha256Hex, type ContentDigest, type DigestKind } from '../hashing/content-digest.js';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { vmxError } from '../core/errors.js';
import { CORE } from '../core/error-codes.js';
import { dirname, basename, join } from 'node:path';
import { throwIfAborted } from '../core/abort.js';
import { fsError } from './random-access-file.js';
import { isHeadPatch, type WriterOutput } from '../formats/format-writer.js';

export interface FileOutputResult {
  bytes: number;
  /** The output's digest, `<kind>:<hex>`. */
  digest: string;
  /** Its hex when the kind is the full-content `sha256`. */
  sha256: string | undefined;
}

const SPARSE_MIN = 64 * 1024;

/**
 * Writes a byte stream to `path` through a temporary sibling renamed into place only when the
 * stream completed, so a failed or cancelled conversion never leaves a plausible-looking image.
 * All-zero buffers become holes (the file is sparse where the image is).
 */
export async function writeStreamToFile(
  path: string,
  chunks: AsyncIterable<WriterOutput>,
  opts: { signal?: AbortSignal | undefined; onWrite?: (n: number) => void; digest?: DigestKind | undefined } = {},
): Promise<FileOutputResult> {
  await refuseNonFile(path);
  const tmp = join(dirname(path), `.${basename(path)}.vmxfer-partial`);
  let fh: FileHandle;
  try {
    // w+: a patched head is hashed again by reading the file back.
    fh = await open(tmp, 'w+');
  } catch (err) {
    throw fsError(err, path);
  }
  const kind = opts.digest ?? DEFAULT_DIGEST;
  let hash = createContentDigest(kind);
  let pos = 0;
  let patched = false;
  try {
    for await (const chunk of chunks) {
      throwIfAborted(opts.signal);
      if (isHeadPatch(chunk)) {
        await writeAll(fh, chunk.data, chunk.offset, tmp);
        patched = true;
        continue;
      }
      if (chunk.length >= SPARSE_MIN && isZero(chunk)) hash.zeros(chunk.length);
      else {
        hash.update(chunk);
        await writeAll(fh, chunk, pos, tmp);
      }
      pos += chunk.length;
      opts.onWrite?.(chunk.length);
    }
    await fh.truncate(pos);
    // A patched head invalidates the streamed digest: hash the final file once more.
    if (patched) hash = await hashFile(fh, pos, kind, opts.signal);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const digest = hash.digest();
  return { bytes: pos, digest, sha256: sha256Hex(digest) };
}

/** rename(2) over a device node, FIFO or socket would replace it with a regular file: only files are outputs. */
async function refuseNonFile(path: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st && !st.isFile()) {
    throw vmxError(CORE.USAGE, `${path} exists and is not a regular file (a device, FIFO, socket or directory); vmxfer writes image files and would replace it`, { file: path });
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, pos: number, file: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    try {
      const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
      done += bytesWritten;
    } catch (err) {
      throw fsError(err, file, pos + done);
    }
  }
}

const ZERO_BLOCK = Buffer.alloc(SPARSE_MIN);

export function isZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZERO_BLOCK.length) {
    const end = Math.min(buf.length, off + ZERO_BLOCK.length);
    if (!buf.subarray(off, end).equals(ZERO_BLOCK.subarray(0, end - off))) return false;
  }
  return true;
}

async function hashFile(fh: FileHandle, size: number, kind: DigestKind, signal?: AbortSignal): Promise<ContentDigest> {
  const hash = createContentDigest(kind);
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (let pos = 0; pos < size; pos += buf.length) {
    throwIfAborted(signal);
    const n = Math.min(buf.length, size - pos);
    await fh.read(buf, 0, n, pos);
    hash.update(buf.subarray(0, n));
  }
  return hash;
}
