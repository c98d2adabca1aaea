import type { ObjectSink, PartChecksumAlgorithm, PartRef } from '../sinks/object-sink.js';
import { partChecksum } from '../sinks/part-checksum.js';
import type { CheckpointPart } from './upload-checkpoint.js';

/**
 * A sent part as the checkpoint keeps it: its ETag, size and the checksum the sink sent with it
 * (SinkCapabilities.partChecksum). The sink's value is reused; the part is hashed here only when
 * a sink returned none (a decorator in a test).
 */
export function checkpointPart(sink: ObjectSink, ref: PartRef, body: Uint8Array): CheckpointPart {
  const algorithm = sink.capabilities.partChecksum;
  const value = ref.checksums?.[algorithm] ?? partChecksum(algorithm, body);
  const entry: CheckpointPart = { partNumber: ref.partNumber, etag: ref.etag, size: body.length };
  if (algorithm === 'md5') entry.md5 = value;
  else if (algorithm === 'crc64ecma') entry.crc64 = value;
  else if (algorithm === 'crc32c') entry.crc32c = value;
  else entry.crc64nvme = value;
  return entry;
}

/** Whether a regenerated part has the bytes of a confirmed one, by the checksum the confirmed one carries. */
export function samePartBytes(prior: CheckpointPart, body: Uint8Array): boolean {
  if (prior.size !== body.length) return false;
  if (prior.md5 !== undefined) return prior.md5 === partChecksum('md5', body);
  if (prior.crc64nvme !== undefined) return prior.crc64nvme === partChecksum('crc64nvme', body);
  if (prior.crc32c !== undefined) return prior.crc32c === partChecksum('crc32c', body);
  return prior.crc64 !== undefined && prior.crc64 === partChecksum('crc64ecma', body);
}

/** The part checksum the confirmed parts were sent with (the field they carry); undefined before any. */
export function sentChecksum(parts: readonly CheckpointPart[]): PartChecksumAlgorithm | undefined {
  const p = parts[0];
  if (!p) return undefined;
  if (p.md5 !== undefined) return 'md5';
  if (p.crc32c !== undefined) return 'crc32c';
  if (p.crc64nvme !== undefined) return 'crc64nvme';
  return p.crc64 !== undefined ? 'crc64ecma' : undefined;
}
