import { createContentDigest, DEFAULT_DIGEST, type DigestKind } from '../hashing/content-digest.js';
import { CORE } from '../core/error-codes.js';
import { isVmxferError, vmxError } from '../core/errors.js';
import type { ProgressTracker } from '../core/progress.js';
import { HashingSource } from '../disk/hashing-source.js';
import { Sha256Thread } from '../hashing/sha256-thread.js';
import { withProgress } from '../disk/progress-source.js';
import { openDisk } from '../formats/detect.js';
import { reproducingWriter, type DiskWriter, type EncoderSettings, type ImageIdentity } from '../formats/format-writer.js';
import { TRANSFER } from './error-codes.js';
import { QCOW2 } from '../formats/qcow2/error-codes.js';
import { VHD } from '../formats/vhd/error-codes.js';
import { VHDX } from '../formats/vhdx/error-codes.js';
import { VMDK } from '../formats/vmdk/error-codes.js';
import { WRITERS, writerByTarget } from '../formats/registry.js';
import type { ChunkFingerprinter } from '../hashing/fingerprint.js';
import { RandomAccessFile } from '../io/random-access-file.js';
import type { WorkerPool } from '../pipeline/worker-pool.js';
import { withFingerprints } from './fingerprinting-source.js';
import { readOriginalParts } from './original-parts.js';
import { cutParts, type CutPart } from './part-cutter.js';
import { SourceFingerprints, fingerprintWindow, type SourceFingerprintRecord } from './source-fingerprints.js';

/**
 * A passthrough sends the bytes as they are, but a disk image whose container is damaged (cut short,
 * a footer or table that points past the end) would reach the cloud importer as a broken disk: the
 * reader's open checks its headers, footers, tables and archive members first. What is not the
 * file's own damage goes through unchanged: a feature this build cannot convert, a parent or backing
 * file that is not at hand (the passthrough sends this one file, not its chain).
 */
async function refuseDamagedContainer(path: string, opts: UploadSourceOptions): Promise<void> {
  try {
    const disk = await openDisk(path, { format: opts.from, parent: opts.parent, signal: opts.signal });
    await disk.close();
  } catch (err) {
    const damaged = isVmxferError(err) && (err.category === 'invalid-input' || err.category === 'integrity') && !CHAIN_CODES.has(err.code);
    if (damaged || !isVmxferError(err)) throw err;
  }
}

/** Errors about a disk's parent or backing chain rather than the file itself. */
const CHAIN_CODES: ReadonlySet<string> = new Set([
  VHD.PARENT_MISSING.code, VHD.BAD_PARENT_LOCATOR.code, VHD.PARENT_ID_MISMATCH.code,
  VHDX.BAD_PARENT_LOCATOR.code, VHDX.PARENT_LOOP.code, VHDX.PARENT_MISMATCH.code,
  VMDK.PARENT_LOOP.code, QCOW2.BACKING_LOOP.code, QCOW2.BACKING_TOO_DEEP.code,
]);

/** The passthrough's "encoder": the source's bytes, unchanged. */
const ORIGINAL_ENCODER: EncoderSettings = { writer: 'original/1' };

export interface UploadOutput {
  /** The output cut into parts of `partSize` in buffers from `acquire`; with `holdFirst`, part 1 comes last. */
  parts(partSize: number, acquire: () => Promise<Buffer>, holdFirst: boolean, signal?: AbortSignal): AsyncIterable<CutPart>;
  /** Digest (`<kind>:<hex>`) of the bytes streamed (valid once consumed; meaningless if the head was patched). */
  hasher: (() => Promise<string | undefined>) | undefined;
}

/** What an upload sends: the source's bytes as they are, or converted on the fly by a writer. */
export interface UploadSource {
  maxOutputSize: number;
  patchableHead: number;
  /** Everything besides source and identity that determines the output bytes, for the checkpoint. */
  encoder: EncoderSettings;
  output: UploadOutput;
  /** The digest (`<kind>:<hex>`) of the source's content once all of it was read (hashed on its own thread). */
  sourceDigest(): Promise<string | undefined>;
  /** Fingerprints of the source bytes read so far (and those a resumed checkpoint proved before). */
  fingerprints(): SourceFingerprintRecord | undefined;
  close(): Promise<void>;
}

export interface UploadSourceOptions {
  from?: string | undefined;
  parent?: string | undefined;
  identity?: ImageIdentity | undefined;
  /** The encoder an interrupted upload used: the output must be regenerated with it. */
  encoder?: EncoderSettings | undefined;
  signal?: AbortSignal | undefined;
  pool?: WorkerPool | undefined;
  chunkBytes?: number | undefined;
  fingerprinter: ChunkFingerprinter;
  /** The digest kind of the source and output (docs/integrity.md); default sha256-linear-512k. */
  digest?: DigestKind | undefined;
  /** What the checkpoint of the interrupted upload recorded; the source must read back the same. */
  priorFingerprints?: SourceFingerprintRecord | undefined;
}

/** Fingerprints in windows of `windowBytes`, or of the size the interrupted upload used. */
function sourceFingerprints(opts: UploadSourceOptions, windowBytes: number, where: string): SourceFingerprints {
  const prior = opts.priorFingerprints;
  return new SourceFingerprints(opts.fingerprinter, prior?.windowBytes ?? windowBytes, prior?.windows ?? [], where);
}

export async function openUploadSource(path: string, as: string, opts: UploadSourceOptions, progress: ProgressTracker): Promise<UploadSource> {
  if (as === 'original') return openOriginal(path, opts, progress);
  const writer = resumableWriter(as, opts.encoder);
  const disk = await openDisk(path, { format: opts.from, parent: opts.parent, signal: opts.signal });
  progress.totalBytes = disk.virtualSize;
  const fingerprints = sourceFingerprints(opts, fingerprintWindow(disk.virtualSize), path);
  const kind = opts.digest ?? DEFAULT_DIGEST;
  const hashing = new HashingSource(withFingerprints(withProgress(disk, progress), fingerprints), kind);
  const outHash = createContentDigest(kind);
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
    encoder: writer.encoder,
    output: {
      parts: (partSize, acquire, holdFirst, signal) => cutParts(chunks, partSize, acquire, holdFirst, signal),
      hasher: async () => (done ? (digest ??= outHash.digest()) : undefined),
    },
    sourceDigest: () => hashing.digest(),
    fingerprints: () => fingerprints.record(),
    close: () => disk.close(),
  };
}

/** The writer for `as`, set up to reproduce `encoder` when an interrupted upload used it. */
function resumableWriter(as: string, encoder: EncoderSettings | undefined): DiskWriter {
  const writer = writerByTarget(as);
  if (!writer) throw vmxError(CORE.UNSUPPORTED_TARGET, `cannot write "${as}" (targets: original, ${WRITERS.map((w) => w.target).join(', ')})`);
  if (!encoder) return writer;
  const same = reproducingWriter(writer, encoder);
  if (typeof same === 'string') throw vmxError(TRANSFER.RESUME_ENCODER, `cannot regenerate the confirmed parts byte for byte: ${same}`);
  return same;
}

async function openOriginal(path: string, opts: UploadSourceOptions, progress: ProgressTracker): Promise<UploadSource> {
  if (opts.encoder && opts.encoder.writer !== ORIGINAL_ENCODER.writer) {
    throw vmxError(TRANSFER.RESUME_ENCODER, `cannot continue the upload: it was written by writer ${opts.encoder.writer}, this vmxfer sends ${ORIGINAL_ENCODER.writer}`);
  }
  await refuseDamagedContainer(path, opts);
  const file = await RandomAccessFile.open(path);
  progress.totalBytes = file.size;
  // One window per part, closed as the part is read: a changed part is named before it is compared or sent.
  let fingerprints: SourceFingerprints | undefined;
  // The passthrough's main thread reads, MD5s and sends; the SHA-256 runs beside it.
  const kind = opts.digest ?? DEFAULT_DIGEST;
  const sha256 = new Sha256Thread(undefined, undefined, kind);
  let done = false;
  let digest: Promise<string> | undefined;
  const final = async () => (done ? (digest ??= sha256.digest().then((hex) => `${kind}:${hex}`)) : undefined);
  return {
    maxOutputSize: file.size,
    patchableHead: 0,
    encoder: ORIGINAL_ENCODER,
    output: {
      async *parts(partSize, acquire, _holdFirst, signal) {
        fingerprints = sourceFingerprints(opts, partSize, path);
        yield* readOriginalParts({ file, partSize, acquire, sha256, fingerprints, progress, signal });
        done = true;
      },
      hasher: final,
    },
    sourceDigest: final,
    fingerprints: () => fingerprints?.record() ?? opts.priorFingerprints,
    close: async () => {
      await sha256.close();
      await file.close();
    },
  };
}
