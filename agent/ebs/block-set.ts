/** A set of 512 KiB block indexes of one volume as a bitmap: 512 KiB of memory for a 2 TiB volume. */
export class BlockSet {
  private readonly bits: Uint8Array;
  private n = 0;

  constructor(readonly blocks: number, bits?: Uint8Array) {
    this.bits = bits ?? new Uint8Array(Math.ceil(blocks / 8));
    if (bits) for (const b of bits) this.n += popcount(b);
  }

  static fromBase64(blocks: number, text: string): BlockSet | undefined {
    const bits = Buffer.from(text, 'base64');
    return bits.length === Math.ceil(blocks / 8) ? new BlockSet(blocks, new Uint8Array(bits)) : undefined;
  }

  get size(): number {
    return this.n;
  }

  has(index: number): boolean {
    return index < this.blocks && (this.bits[index >> 3]! & (1 << (index & 7))) !== 0;
  }

  add(index: number): void {
    if (index >= this.blocks || this.has(index)) return;
    this.bits[index >> 3]! |= 1 << (index & 7);
    this.n++;
  }

  /** The members in [first, first + count), in order. */
  *within(first: number, count: number): Generator<number> {
    const end = Math.min(this.blocks, first + count);
    for (let i = first; i < end; i++) {
      // Skip empty bytes whole: a long zero run over a sparse parent costs a byte test per 8 blocks.
      if ((i & 7) === 0 && this.bits[i >> 3] === 0) {
        i += 7;
        continue;
      }
      if (this.has(i)) yield i;
    }
  }

  toBase64(): string {
    return Buffer.from(this.bits.buffer, this.bits.byteOffset, this.bits.length).toString('base64');
  }
}

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x; x &= x - 1) n++;
  return n;
}
