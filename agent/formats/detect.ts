import { RandomAccessFile } from '../io/random-access-file.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { DiskSource } from '../disk/disk-source.js';
import type { FormatReader, OpenOptions, ProbeInput } from './format-reader.js';
import { READERS, readerByName } from './registry.js';

export async function probeFile(path: string): Promise<ProbeInput> {
  const f = await RandomAccessFile.open(path);
  try {
    const head = await f.read(0, Math.min(f.size, 65536), 'header');
    const tailLen = Math.min(f.size, 512);
    const tail = await f.read(f.size - tailLen, tailLen, 'footer');
    return { path, size: f.size, head, tail };
  } finally {
    await f.close();
  }
}

export async function detectFormat(path: string): Promise<FormatReader> {
  const input = await probeFile(path);
  const reader = READERS.find((r) => r.probe(input));
  if (!reader) throw vmxError(CORE.UNKNOWN_FORMAT, 'the file matches no disk image format vmxfer reads', { file: path });
  return reader;
}

/** Opens any supported image; `format` forces a reader instead of detection. */
export async function openDisk(path: string, opts: OpenOptions & { format?: string | undefined } = {}): Promise<DiskSource> {
  let reader: FormatReader | undefined;
  if (opts.format) {
    reader = readerByName(opts.format);
    if (!reader) throw vmxError(CORE.USAGE, `unknown input format "${opts.format}" (known: ${READERS.map((r) => r.name).join(', ')})`);
  } else {
    reader = await detectFormat(path);
  }
  return reader.open(path, opts);
}
