import { allocAligned } from './aligned-buffer.js';

/**
 * Page-aligned read buffers of one capacity, reused: a reader allocates with `acquire` (it fits
 * ExtentReadOptions.allocate) and the consumer hands each buffer back with `release` once it has
 * copied the bytes out. Only the exact Buffer objects `acquire` returned are taken back, so a slice
 * a decorator made of one (still shared with a later extent) is never reused by mistake; anything
 * not taken back is left to the garbage collector. At most `keep` idle buffers are held.
 */
export class AlignedBufferPool {
  private readonly idle: Buffer[] = [];
  private readonly owners = new WeakMap<Buffer, Buffer>();

  constructor(
    readonly capacity: number,
    private readonly keep = 2,
  ) {}

  readonly acquire = (length: number): Buffer => {
    if (length > this.capacity) return allocAligned(length);
    const whole = this.idle.pop() ?? allocAligned(this.capacity);
    const buf = length === this.capacity ? whole : whole.subarray(0, length);
    this.owners.set(buf, whole);
    return buf;
  };

  release(buf: Buffer): void {
    const whole = this.owners.get(buf);
    if (!whole) return;
    this.owners.delete(buf);
    if (this.idle.length < this.keep) this.idle.push(whole);
  }

  get idleCount(): number {
    return this.idle.length;
  }
}
