import { vmxError } from '../../core/errors.js';
import { CORE } from '../../core/error-codes.js';

/**
 * Reference counts of the clusters the writer has placed, kept only for the refcount blocks not
 * yet written (qcow2.txt §Host cluster management: one block of 16-bit counts per window of
 * clusterSize/2 clusters). The output only moves forward, so a window is final once the write
 * position passes its end; at most two or three windows are ever held.
 */
export class RefcountTracker {
  private readonly open = new Map<number, Uint16Array>();
  /** Refcount table entries: file offset of each window's block (0: none yet). */
  readonly table: number[] = [];

  constructor(
    private readonly clusterSize: number,
    private readonly blockEntries: number,
  ) {}

  /** +1 for every cluster touched by the bytes [start, end). */
  addRange(start: number, end: number): void {
    const first = Math.floor(start / this.clusterSize);
    const last = Math.floor((end - 1) / this.clusterSize);
    for (let c = first; c <= last; c++) this.increment(c);
  }

  private increment(cluster: number): void {
    const w = Math.floor(cluster / this.blockEntries);
    let counts = this.open.get(w);
    if (!counts) {
      if (this.table[w]) throw vmxError(CORE.INTERNAL, `qcow2 writer: refcount window ${w} was already written`);
      counts = new Uint16Array(this.blockEntries);
      this.open.set(w, counts);
    }
    const i = cluster % this.blockEntries;
    if (counts[i] === 0xffff) throw vmxError(CORE.INTERNAL, `qcow2 writer: refcount of cluster ${cluster} overflows 16 bits`);
    counts[i]! += 1;
  }

  /** Windows wholly before `position` whose block is still to be written. */
  finishedBefore(position: number): number[] {
    const windowBytes = this.blockEntries * this.clusterSize;
    return [...this.open.keys()].filter((w) => (w + 1) * windowBytes <= position && !this.table[w]).sort((a, b) => a - b);
  }

  /** Windows holding counts whose block has not been placed. */
  unplaced(): number[] {
    return [...this.open.keys()].filter((w) => !this.table[w]).sort((a, b) => a - b);
  }

  /** Records where window `w`'s block goes (and counts that cluster itself). */
  place(w: number, offset: number): void {
    this.table[w] = offset;
    this.addRange(offset, offset + this.clusterSize);
  }

  /** The block for window `w`, big-endian 16-bit counts; forgets the window. */
  takeBlock(w: number): Buffer {
    const counts = this.open.get(w)!;
    this.open.delete(w);
    const block = Buffer.alloc(this.clusterSize);
    for (let i = 0; i < counts.length; i++) if (counts[i]) block.writeUInt16BE(counts[i]!, i * 2);
    return block;
  }

  encodeTable(clusters: number): Buffer {
    const b = Buffer.alloc(clusters * this.clusterSize);
    this.table.forEach((off, i) => off && b.writeBigUInt64BE(BigInt(off), i * 8));
    return b;
  }
}
