import type { ObjectInfo, ObjectSink, PartRef } from '../agent/sinks/object-sink.js';

/**
 * One multipart upload of `total` bytes through a sink: `inFlight` workers send parts of `partSize`,
 * taking the bodies round-robin from `bodies` (generated beforehand, so generating stays out of the
 * timing), then complete. What the sink benches share.
 */
export async function uploadParallelParts(sink: ObjectSink, key: string, bodies: Buffer[], total: number, partSize: number, inFlight: number): Promise<ObjectInfo> {
  const id = await sink.createUpload(key, {});
  const parts: PartRef[] = [];
  const count = total / partSize;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = ++next;
      parts[n - 1] = await sink.uploadPart(key, id, n, bodies[n % bodies.length]!);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return sink.completeUpload(key, id, parts);
}
