import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { vmxError, isVmxferError } from '../../core/errors.js';
import { OVA } from './error-codes.js';
import type { OvfFile } from './ovf/ovf-types.js';
import { chunkName } from './chunk-names.js';

/** Where a File's bytes come from: the next member of a given name, consecutive for chunks. */
export interface MemberSource {
  /** The member named `name`, skipping earlier ones (first member of a File). */
  seek(name: string, what: string): Promise<{ name: string; size: number; body: Readable }>;
  /** The member named `name` if it comes next (following chunks), else undefined. */
  nextIf(name: string): Promise<{ name: string; size: number; body: Readable } | undefined>;
  readonly name: string;
}

/**
 * A File's content as one stream: its member, or its chunks joined (DSP0243 §7.1 ovf:chunkSize:
 * every chunk but the last is exactly chunkSize bytes), then gunzipped when ovf:compression is
 * "gzip" (compression applies to the whole file before it is chunked).
 */
export async function openOvfFile(src: MemberSource, file: OvfFile, what: string): Promise<Readable> {
  if (file.compression !== undefined && file.compression !== 'gzip') {
    throw vmxError(OVA.UNSUPPORTED_COMPRESSION, `File "${file.href}" uses ovf:compression="${file.compression}"; only gzip is read`, { file: src.name });
  }
  const first = await src.seek(file.chunkSize === undefined ? file.href : chunkName(file.href, 0), what);
  let joined: Readable;
  if (file.chunkSize === undefined) {
    if (file.size !== undefined && first.size !== file.size) {
      throw vmxError(OVA.SIZE_MISMATCH, `member "${first.name}" is ${first.size} bytes but its File element says ovf:size="${file.size}"`, { file: src.name });
    }
    joined = first.body;
  } else {
    joined = Readable.from(chunks(src, file, file.chunkSize, first), { objectMode: false });
  }
  return file.compression === 'gzip' ? gunzip(joined, file.href, src.name) : joined;
}

async function* chunks(src: MemberSource, file: OvfFile, chunkSize: number, first: { name: string; size: number; body: Readable }): AsyncGenerator<Buffer> {
  let entry: { name: string; size: number; body: Readable } | undefined = first;
  let total = 0;
  for (let i = 0; entry; i++) {
    const expected = file.size === undefined ? undefined : Math.min(chunkSize, file.size - total);
    if (entry.size > chunkSize || (expected !== undefined && entry.size !== expected)) {
      throw vmxError(OVA.BAD_CHUNK, `chunk "${entry.name}" is ${entry.size} bytes; chunks of "${file.href}" must be ${expected ?? `at most ${chunkSize}`} bytes here (ovf:chunkSize=${chunkSize}${file.size !== undefined ? `, ovf:size=${file.size}` : ''})`, { file: src.name });
    }
    for await (const c of entry.body) yield c as Buffer;
    total += entry.size;
    const last = file.size !== undefined ? total >= file.size : entry.size < chunkSize;
    if (last) return;
    entry = await src.nextIf(chunkName(file.href, i + 1));
    if (!entry && file.size !== undefined) {
      throw vmxError(OVA.BAD_CHUNK, `chunk "${chunkName(file.href, i + 1)}" does not follow "${chunkName(file.href, i)}": ${total} of ${file.size} bytes of "${file.href}" were found`, { file: src.name });
    }
  }
}

/** gunzip with zlib's errors turned into a typed one; the archive's own errors pass through. */
function gunzip(input: Readable, href: string, archive: string): Readable {
  const z = createGunzip();
  input.on('error', (err) => z.destroy(err));
  input.pipe(z);
  async function* mapped(): AsyncGenerator<Buffer> {
    try {
      for await (const c of z) yield c as Buffer;
    } catch (err) {
      if (isVmxferError(err)) throw err;
      throw vmxError(OVA.CORRUPT_GZIP, `File "${href}" is not a valid gzip stream: ${(err as Error).message}`, { file: archive, cause: err });
    } finally {
      input.destroy();
    }
  }
  return Readable.from(mapped(), { objectMode: false });
}
