import { vmxError } from '../core/errors.js';
import type { ChunkFingerprinter } from '../hashing/fingerprint.js';
import { TRANSFER } from './error-codes.js';

const MiB = 1024 * 1024;
/** Smallest window: 256 fingerprints per GiB name a changed region closely and keep the checkpoint small. */
const MIN_WINDOW = 4 * MiB;
/** At most this many windows per source, so a checkpoint rewritten after every part stays ~80 KB. */
const MAX_WINDOWS = 4096;
/**
 * Stands for a run of zeros the source reports without bytes (a hole, an unallocated extent), so
 * that a 40 TiB sparse disk is not hashed byte by byte. Followed by the run's length (u64 LE).
 */
const ZERO_RUN = Buffer.from('\0vmxfer-zero-run', 'latin1');

/** What the checkpoint keeps: xxh64 of each complete window of the source, from offset 0 on. */
export interface SourceFingerprintRecord {
  algorithm: 'xxh64';
  windowBytes: number;
  windows: string[];
}

export function isFingerprintRecord(x: unknown): x is SourceFingerprintRecord {
  const r = x as SourceFingerprintRecord;
  return typeof r === 'object' && r !== null && r.algorithm === 'xxh64' && Number.isSafeInteger(r.windowBytes) && r.windowBytes > 0 && Array.isArray(r.windows) && r.windows.every((w) => typeof w === 'string');
}

/** Window size for a source of `total` bytes (the checkpoint's own size when resuming). */
export function fingerprintWindow(total: number): number {
  return Math.max(MIN_WINDOW, Math.ceil(total / MAX_WINDOWS / MiB) * MiB);
}

/**
 * Fingerprints the bytes an upload reads from its source, one xxh64 per window of `windowBytes`
 * (issue #4: a resumed job proves its source has not changed). The consumer feeds the source in
 * order; a resumed upload passes the fingerprints its checkpoint recorded, and the first window
 * that reads back differently stops the upload with XFER_RESUME_MISMATCH naming the window's
 * offset, even when size and mtime were restored. xxh64 runs at ~4 GB per CPU-second here
 * (bench/README.md "Hashing"); zero runs cost one small update each.
 */
export class SourceFingerprints {
  private windows: string[] = [];
  private position = 0;
  private filled = 0;
  private pendingZeros = 0;

  constructor(
    private readonly hasher: ChunkFingerprinter,
    readonly windowBytes: number,
    private readonly expected: readonly string[],
    private readonly where: string,
  ) {
    this.hasher.begin();
  }

  /** Starts over at offset 0 (a writer that reads its source twice). */
  restart(): void {
    this.windows = [];
    this.position = 0;
    this.filled = 0;
    this.pendingZeros = 0;
    this.hasher.begin();
  }

  /** The next bytes of the source, in order. */
  data(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(bytes.length - at, this.windowBytes - this.filled);
      this.flushZeros();
      this.hasher.update(bytes.subarray(at, at + n));
      this.advance(n);
      at += n;
    }
  }

  /** The next `length` bytes of the source read as zeros without being stored. */
  zeros(length: number): void {
    for (let left = length; left > 0; ) {
      const n = Math.min(left, this.windowBytes - this.filled);
      this.pendingZeros += n;
      this.advance(n);
      left -= n;
    }
  }

  /** The source ended: its last, shorter window counts too. */
  end(): void {
    if (this.filled > 0) this.closeWindow();
  }

  /**
   * The windows read so far, followed by those the checkpoint recorded beyond them: a resumed run
   * re-reads from offset 0, and a crash before it gets as far must not forget what was proven.
   */
  record(): SourceFingerprintRecord {
    return { algorithm: 'xxh64', windowBytes: this.windowBytes, windows: [...this.windows, ...this.expected.slice(this.windows.length)] };
  }

  private advance(n: number): void {
    this.position += n;
    this.filled += n;
    if (this.filled === this.windowBytes) this.closeWindow();
  }

  private flushZeros(): void {
    if (this.pendingZeros === 0) return;
    const run = Buffer.alloc(ZERO_RUN.length + 8);
    ZERO_RUN.copy(run);
    run.writeBigUInt64LE(BigInt(this.pendingZeros), ZERO_RUN.length);
    this.hasher.update(run);
    this.pendingZeros = 0;
  }

  private closeWindow(): void {
    this.flushZeros();
    const index = this.windows.length;
    const fingerprint = this.hasher.finish();
    const want = this.expected[index];
    if (want !== undefined && want !== fingerprint) {
      const start = index * this.windowBytes;
      throw vmxError(
        TRANSFER.RESUME_MISMATCH,
        `the source changed since the upload started: bytes [${start}, ${this.position}) read back with xxh64 ${fingerprint}, the checkpoint recorded ${want} (the first window that differs; size and mtime can be restored, the bytes cannot)`,
        { file: this.where, offset: start },
      );
    }
    this.windows.push(fingerprint);
    this.filled = 0;
    this.hasher.begin();
  }
}
