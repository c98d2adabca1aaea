import type { ProbeInput } from '../formats/format-reader.js';
import { READERS } from '../formats/registry.js';
import { parseSparseHeader } from '../formats/vmdk/sparse-header.js';
import type { ObjectSink } from '../sinks/object-sink.js';

/** How a downloaded object can be converted: from the stream of GETs, or only from a local file. */
export type RemoteFormat = { format: string; streamable: 'vmdk-stream' | 'raw' | false };

/**
 * Detects an object's format from its first 64 KiB and last 512 bytes (two ranged GETs), as
 * `detect.ts` does for files. Stream-optimized VMDK (VMDK 5.0 §"Stream-Optimized Compressed
 * Sparse Extents": markers and compressed-grain flags in the header) and raw are laid out to be
 * read front to back; every other format needs seeks and is converted from a local copy.
 */
export async function detectRemoteFormat(sink: ObjectSink, key: string, size: number, where: string, signal?: AbortSignal): Promise<RemoteFormat> {
  const head = await sink.getRange(key, 0, Math.min(size, 65536), signal);
  const tail = await sink.getRange(key, size - Math.min(size, 512), size, signal);
  const input: ProbeInput = { path: where, size, head, tail };
  const reader = READERS.find((r) => r.probe(input));
  const format = reader?.name ?? 'raw';
  if (format === 'raw') return { format, streamable: 'raw' };
  if (format === 'vmdk' && head.length >= 512 && head.readUInt32LE(0) === 0x564d444b) {
    const h = parseSparseHeader(head, where);
    if (h.hasMarkers && h.compressed) return { format, streamable: 'vmdk-stream' };
  }
  return { format, streamable: false };
}
