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
  /** Virtual bytes per second over the recent window. */
  rate: number;
  etaSeconds: number;
  /** With several objects in one progress (an export's disks): the one in progress, 1-based. */
  disk?: DiskPosition;
  /** Present while no byte has moved to or from the store for the stall timeout, until bytes move again. */
  stalled?: true;
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

  snapshot(): ProgressSnapshot {
    const now = performance.now();
    const last = this.window[this.window.length - 1];
    if (!last || now - last[0] >= 250) this.window.push([now, this.read]);
    while (this.window.length > 2 && now - this.window[0]![0] > 5000) this.window.shift();
    const [t0, r0] = this.window[0]!;
    const dt = (now - t0) / 1000;
    const elapsed = (now - this.started) / 1000;
    const rate = dt > 0.05 ? (this.read - r0) / dt : elapsed > 0 ? this.read / elapsed : 0;
    const remaining = Math.max(0, this.totalBytes - this.read);
    return {
      phase: this.current,
      bytesRead: this.read,
      bytesWritten: this.written,
      totalBytes: this.totalBytes,
      elapsedSeconds: elapsed,
      rate,
      etaSeconds: rate > 0 ? remaining / rate : Number.POSITIVE_INFINITY,
      ...(this.disk ? { disk: { ...this.disk } } : {}),
      ...(this.isStalled ? { stalled: true as const } : {}),
    };
  }
}
