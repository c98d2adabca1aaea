import { EventEmitter } from 'node:events';

export type Phase = 'opening' | 'converting' | 'uploading' | 'downloading' | 'verifying' | 'done' | 'failed';

export interface ProgressSnapshot {
  phase: Phase;
  /** Bytes of the virtual disk consumed so far (data, zero and unallocated alike). */
  bytesRead: number;
  /** Bytes of output produced so far. */
  bytesWritten: number;
  /** Virtual size being processed; bytesRead reaches it at the end. */
  totalBytes: number;
  elapsedSeconds: number;
  /**
   * Bytes per second over the recent window: of bytes the store confirmed while an upload is under
   * way (`upload` present), of virtual bytes read otherwise.
   */
  rate: number;
  /** Present once an upload's output is being cut into parts: what the store confirmed, of what total. */
  upload?: UploadProgress;
  etaSeconds: number;
  /** With several objects in one progress (an export's disks): the one in progress, 1-based. */
  disk?: DiskPosition;
  /** Present while no byte has moved to or from the store for the stall timeout, until bytes move again. */
  stalled?: true;
}

export interface UploadProgress {
  /** Bytes of parts the store confirmed (sent in this run, or found already there on a resume). */
  bytesConfirmed: number;
  /**
   * The object's size: exact once conversion has finished; before that projected from the output
   * produced per byte read, never above the writer's bound.
   */
  outputBytes: number;
  partsDone: number;
  /** ceil(outputBytes / partSize): exact once conversion has finished. */
  partsTotal: number;
  partSize: number;
}

export interface DiskPosition {
  index: number;
  count: number;
}

/**
 * The one progress interface: producers call `advance`/`wrote`/`phase`; the CLI renderer, the daemon's
 * job state and its WebSocket feed subscribe to 'progress' and 'phase' events.
 */
export class ProgressTracker extends EventEmitter<{ progress: [ProgressSnapshot]; phase: [Phase] }> {
  private current: Phase = 'opening';
  private read = 0;
  private written = 0;
  private isStalled = false;
  private out: { bound: number; partSize: number; produced: number; confirmed: number; parts: number; complete: boolean } | undefined;
  private readonly started = performance.now();
  private window: Array<[number, number]> = [];
  /** Set by whoever spreads one progress over several objects (export-progress.ts). */
  disk: DiskPosition | undefined;

  constructor(public totalBytes = 0) {
    super();
  }

  phase(p: Phase): void {
    this.current = p;
    this.emit('phase', p);
    this.emit('progress', this.snapshot());
  }

  advance(virtualBytes: number): void {
    this.read += virtualBytes;
    this.emit('progress', this.snapshot());
  }

  /** The store stopped moving bytes (true) or moves them again (false). */
  stalled(on: boolean): void {
    if (on === this.isStalled) return;
    this.isStalled = on;
    this.emit('progress', this.snapshot());
  }

  wrote(bytes: number): void {
    this.written += bytes;
  }

  /** An upload begins: its output is at most `bound` bytes, cut in parts of `partSize`. */
  uploading(bound: number, partSize: number): void {
    this.out = { bound, partSize, produced: 0, confirmed: 0, parts: 0, complete: false };
    // The rate is of confirmed bytes from here on: a part confirmed in one piece is averaged from the start.
    this.window = [[performance.now(), 0]];
  }

  /** A part of `bytes` was cut from the output (not yet confirmed). */
  produced(bytes: number): void {
    if (this.out) this.out.produced += bytes;
  }

  /** The last part has been cut: the object's size is now exact. */
  outputComplete(): void {
    if (this.out) this.out.complete = true;
  }

  /** The store confirmed a part of `bytes`. */
  confirmed(bytes: number): void {
    if (!this.out) return;
    this.out.confirmed += bytes;
    this.out.parts++;
    this.emit('progress', this.snapshot());
  }

  snapshot(): ProgressSnapshot {
    const now = performance.now();
    const upload = this.uploadProgress();
    const done = upload ? upload.bytesConfirmed : this.read;
    const total = upload ? upload.outputBytes : this.totalBytes;
    const last = this.window[this.window.length - 1];
    if (!last || now - last[0] >= 250) this.window.push([now, done]);
    while (this.window.length > 2 && now - this.window[0]![0] > 5000) this.window.shift();
    const [t0, r0] = this.window[0]!;
    const dt = (now - t0) / 1000;
    const elapsed = (now - this.started) / 1000;
    const rate = dt > 0.05 ? (done - r0) / dt : elapsed > 0 && !upload ? done / elapsed : 0;
    const remaining = Math.max(0, total - done);
    return {
      phase: this.current,
      bytesRead: this.read,
      bytesWritten: this.written,
      totalBytes: this.totalBytes,
      elapsedSeconds: elapsed,
      rate,
      etaSeconds: remaining === 0 ? 0 : rate > 0 ? remaining / rate : Number.POSITIVE_INFINITY,
      ...(upload ? { upload } : {}),
      ...(this.disk ? { disk: { ...this.disk } } : {}),
      ...(this.isStalled ? { stalled: true as const } : {}),
    };
  }

  private uploadProgress(): UploadProgress | undefined {
    const o = this.out;
    if (!o) return undefined;
    const converted = this.totalBytes > 0 ? this.read / this.totalBytes : 0;
    // Output per byte read so far, projected over the whole disk; the writer's bound caps it. Once
    // everything is read but the last parts are not cut yet, only the bound is known.
    const projected = converted === 0 || converted >= 1 ? o.bound : Math.min(o.bound, Math.max(o.produced, Math.ceil(o.produced / converted)));
    const outputBytes = Math.max(o.complete ? o.produced : projected, o.confirmed);
    return { bytesConfirmed: o.confirmed, outputBytes, partsDone: o.parts, partsTotal: Math.max(o.parts, Math.ceil(outputBytes / o.partSize)), partSize: o.partSize };
  }
}
