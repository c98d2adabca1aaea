import { createHash } from 'node:crypto';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { ProgressTracker } from '../core/progress.js';
import { HashingSource } from '../disk/hashing-source.js';
import { withProgress } from '../disk/progress-source.js';
import { openDisk } from '../formats/detect.js';
import type { ImageIdentity, WriterOutput } from '../formats/format-writer.js';
import { WRITERS, writerByTarget } from '../formats/registry.js';
import { RandomAccessFile } from '../io/random-access-file.js';
import { throwIfAborted } from '../core/abort.js';
import type { WorkerPool } from '../pipeline/worker-pool.js';

const VERSION = '0.1.0';

export interface UploadOutput {
  chunks: AsyncIterable<WriterOutput>;
  /** SHA-256 of the bytes streamed (valid once consumed; meaningless if the head was patched). */
  hasher: (() => string | undefined) | undefined;
}

/** What an upload sends: the source's bytes as they are, or converted on the fly by a writer. */
export interface UploadSource {
  maxOutputSize: number;
  patchableHead: number;
  /** Everything that determines the output bytes, for the checkpoint. */
  encoderIdentity: string;
  output: UploadOutput;
  sourceSha256(): string | undefined;
  close(): Promise<void>;
}

export async function openUploadSource(
  path: string,
  as: string,
  opts: { from?: string | undefined; parent?: string | undefined; identity?: ImageIdentity | undefined; signal?: AbortSignal | undefined; pool?: WorkerPool | undefined; chunkBytes?: number | undefined },
  progress: ProgressTracker,
): Promise<UploadSource> {
  if (as === 'original') return openOriginal(path, progress, opts.signal);
  const writer = writerByTarget(as);
  if (!writer) throw vmxError(CORE.UNSUPPORTED_TARGET, `cannot write "${as}" (targets: original, ${WRITERS.map((w) => w.target).join(', ')})`);
  const disk = await openDisk(path, { format: opts.from, parent: opts.parent, signal: opts.signal });
  progress.totalBytes = disk.virtualSize;
  const hashing = new HashingSource(withProgress(disk, progress));
  const outHash = createHash('sha256');
  let done = false;
  const chunks = (async function* () {
    for await (const c of writer.write(hashing.source, { signal: opts.signal, identity: opts.identity, pool: opts.pool, chunkBytes: opts.chunkBytes })) {
      if (Buffer.isBuffer(c)) outHash.update(c);
      yield c;
    }
    done = true;
  })();
  let digest: string | undefined;
  return {
    maxOutputSize: writer.maxOutputSize(disk),
    patchableHead: writer.patchableHead(disk),
    encoderIdentity: `vmxfer/${VERSION} ${writer.target}`,
    output: { chunks, hasher: () => (done ? (digest ??= outHash.digest('hex')) : undefined) },
    sourceSha256: () => hashing.digest(),
    close: () => disk.close(),
  };
}

async function openOriginal(path: string, progress: ProgressTracker, signal?: AbortSignal): Promise<UploadSource> {
  const file = await RandomAccessFile.open(path);
  progress.totalBytes = file.size;
  const hash = createHash('sha256');
  let done = false;
  const chunks = (async function* () {
    const step = 4 * 1024 * 1024;
    for (let pos = 0; pos < file.size; pos += step) {
      throwIfAborted(signal);
      const buf = await file.read(pos, Math.min(step, file.size - pos));
      hash.update(buf);
      yield buf;
      progress.advance(buf.length);
    }
    done = true;
  })();
  let digest: string | undefined;
  const final = () => (done ? (digest ??= hash.digest('hex')) : undefined);
  return {
    maxOutputSize: file.size,
    patchableHead: 0,
    encoderIdentity: `vmxfer/${VERSION} original`,
    output: { chunks, hasher: final },
    sourceSha256: final,
    close: () => file.close(),
  };
}
