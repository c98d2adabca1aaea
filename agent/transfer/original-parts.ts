import { throwIfAborted } from '../core/abort.js';
import type { ProgressTracker } from '../core/progress.js';
import type { RandomAccessFile } from '../io/random-access-file.js';
import type { Sha256Thread } from '../hashing/sha256-thread.js';
import type { CutPart } from './part-cutter.js';
import type { SourceFingerprints } from './source-fingerprints.js';

export interface OriginalPartsInput {
  file: RandomAccessFile;
  partSize: number;
  /** A part-sized buffer from the uploader's pool (page-aligned: reads into it run ~4x faster). */
  acquire: () => Promise<Buffer>;
  /** The source's SHA-256, computed on its own thread. */
  sha256: Sha256Thread;
  fingerprints: SourceFingerprints;
  progress: ProgressTracker;
  signal?: AbortSignal | undefined;
}

/**
 * The parts of a passthrough upload, read straight into the part buffers: one positional read per
 * part, no intermediate chunk and no copy (the generic path cuts a writer's chunks into parts by
 * copying). The SHA-256 and the fingerprints see the same bytes once, in order.
 */
export async function* readOriginalParts(p: OriginalPartsInput): AsyncGenerator<CutPart> {
  let partNumber = 1;
  for (let offset = 0; offset < p.file.size; offset += p.partSize, partNumber++) {
    throwIfAborted(p.signal);
    const body = (await p.acquire()).subarray(0, Math.min(p.partSize, p.file.size - offset));
    await p.file.readInto(body, offset);
    await p.sha256.update(body);
    p.fingerprints.data(body);
    p.progress.advance(body.length);
    yield { partNumber, offset, body };
  }
  p.fingerprints.end();
}
