import { ProgressTracker } from '../../core/progress.js';

/**
 * One progress over every disk of an export. It counts the objects' bytes: their sizes (HEAD, known before the
 * first byte) make the total, so it never moves, while a conversion's virtual size is only known once a disk's
 * object is opened. Each disk's download reports to a tracker of its own whose fraction done is mapped onto that
 * disk's share of the total, so bytesRead only grows and never passes totalBytes.
 */
export class ExportProgress {
  private finishedBytes = 0;
  private shown = 0;

  constructor(
    private readonly overall: ProgressTracker,
    private readonly sizes: readonly number[],
  ) {
    overall.totalBytes = sizes.reduce((n, s) => n + s, 0);
  }

  /** The tracker disk `i` (0-based) downloads with; its phases and bytes move the overall progress. */
  disk(i: number): ProgressTracker {
    this.at(i);
    const size = this.sizes[i]!;
    const own = new ProgressTracker();
    let written = 0;
    own.on('phase', (p) => this.overall.phase(p));
    own.on('progress', (s) => {
      this.overall.wrote(s.bytesWritten - written);
      written = s.bytesWritten;
      const fraction = s.totalBytes > 0 ? Math.min(1, s.bytesRead / s.totalBytes) : 0;
      this.moveTo(this.finishedBytes + Math.floor(fraction * size));
    });
    return own;
  }

  /** Disk `i` is complete: downloaded now, or kept from an earlier run (it counts as done all the same). */
  finished(i: number): void {
    this.at(i);
    this.finishedBytes += this.sizes[i]!;
    this.moveTo(this.finishedBytes);
  }

  /** docs/api.md Job: `progress.disk` only when the export has more than one disk. */
  private at(i: number): void {
    if (this.sizes.length > 1) this.overall.disk = { index: i + 1, count: this.sizes.length };
  }

  private moveTo(bytes: number): void {
    const to = Math.min(this.overall.totalBytes, bytes);
    if (to <= this.shown) return;
    const step = to - this.shown;
    this.shown = to;
    this.overall.advance(step);
  }
}
