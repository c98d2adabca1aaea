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
  return { partNumber: ref.partNumber, etag: ref.etag, size: body.length, [FIELD[algorithm]]: value };
}

/** The checkpoint field each part checksum is kept in. */
const FIELD = { md5: 'md5', crc32c: 'crc32c', crc64nvme: 'crc64nvme', crc64ecma: 'crc64' } as const satisfies Record<PartChecksumAlgorithm, keyof CheckpointPart>;

/** The checksum a confirmed part carries, and its algorithm. */
function recorded(part: CheckpointPart): { algorithm: PartChecksumAlgorithm; value: string } | undefined {
  for (const algorithm of Object.keys(FIELD) as PartChecksumAlgorithm[]) {
    const value = part[FIELD[algorithm]];
    if (value !== undefined) return { algorithm, value };
  }
  return undefined;
}

/** Whether a regenerated part has the bytes of a confirmed one, by the checksum the confirmed one carries. */
export function samePartBytes(prior: CheckpointPart, body: Uint8Array): boolean {
  const r = recorded(prior);
  return prior.size === body.length && r !== undefined && r.value === partChecksum(r.algorithm, body);
}

/** The part checksum the confirmed parts were sent with; undefined before any. */
export function sentChecksum(parts: readonly CheckpointPart[]): PartChecksumAlgorithm | undefined {
  return parts[0] && recorded(parts[0])?.algorithm;
}
