import type { DiskSource } from '../disk/disk-source.js';
import { throwIfAborted } from '../core/abort.js';
import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';

/** Random access to the virtual disk, counting what it reads. */
export interface GuestBytes {
  readonly size: number;
  /** Bytes past the end of the disk read as zeros; `what` names the structure for error messages. */
  read(offset: number, length: number): Promise<Buffer>;
  /** Bytes fetched from the source so far (cache hits not counted). */
  readonly bytesRead: number;
  readonly name: string;
}

/** A source that can read any virtual range itself (raw files); sources without it are read once in order. */
export interface RandomReadable {
  readAt(offset: number, buf: Buffer): Promise<void>;
}

export interface GuestBytesOptions {
  /** Memory bound: the block cache of a random-access source, the whole copy of a streamed one. */
  maxCacheBytes: number;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_GUEST_CACHE_BYTES = 256 * 1024 * 1024;
const BLOCK = 64 * 1024;

function isRandomReadable(d: DiskSource): d is DiskSource & RandomReadable {
  return typeof (d as Partial<RandomReadable>).readAt === 'function';
}

/**
 * Random access over any DiskSource. A source that reads ranges itself is read in 64 KiB blocks
 * through an LRU cache of at most `maxCacheBytes`; any other (qcow2, VHDX, VMDK, an OVA's member)
 * is read once through `extents()` and its data kept, refused with GUEST_SOURCE when the data
 * would exceed `maxCacheBytes`.
 */
export async function guestBytes(disk: DiskSource, name: string, opts: GuestBytesOptions): Promise<GuestBytes> {
  if (isRandomReadable(disk)) return new BlockCacheBytes(disk, name, opts);
  return SnapshotBytes.load(disk, name, opts);
}

class BlockCacheBytes implements GuestBytes {
  bytesRead = 0;
  private readonly cache = new Map<number, Buffer>();
  private readonly maxBlocks: number;

  constructor(private readonly disk: DiskSource & RandomReadable, readonly name: string, private readonly opts: GuestBytesOptions) {
    this.maxBlocks = Math.max(2, Math.floor(opts.maxCacheBytes / BLOCK));
  }

  get size(): number {
    return this.disk.virtualSize;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    for (let pos = offset; pos < offset + length; ) {
      throwIfAborted(this.opts.signal);
      const blockStart = Math.floor(pos / BLOCK) * BLOCK;
      const block = await this.block(blockStart);
      const n = Math.min(offset + length, blockStart + BLOCK) - pos;
      block.copy(out, pos - offset, pos - blockStart, pos - blockStart + n);
      pos += n;
    }
    return out;
  }

  private async block(start: number): Promise<Buffer> {
    const hit = this.cache.get(start);
    if (hit) {
      this.cache.delete(start);
      this.cache.set(start, hit);
      return hit;
    }
    const buf = Buffer.alloc(BLOCK);
    const len = Math.max(0, Math.min(BLOCK, this.size - start));
    if (len > 0) await this.disk.readAt(start, buf.subarray(0, len));
    this.bytesRead += len;
    this.cache.set(start, buf);
    if (this.cache.size > this.maxBlocks) this.cache.delete(this.cache.keys().next().value as number);
    return buf;
  }
}

/** The data extents of a source read once in order, kept sorted by offset. */
class SnapshotBytes implements GuestBytes {
  private constructor(readonly size: number, readonly name: string, private readonly pieces: { offset: number; data: Buffer }[], readonly bytesRead: number) {}

  static async load(disk: DiskSource, name: string, opts: GuestBytesOptions): Promise<SnapshotBytes> {
    const pieces: { offset: number; data: Buffer }[] = [];
    let kept = 0;
    for await (const e of disk.extents({ signal: opts.signal })) {
      if (e.kind !== 'data' || !e.data) continue;
      kept += e.data.length;
      if (kept > opts.maxCacheBytes) {
        throw vmxError(GUEST.SOURCE, `a ${disk.info.format} disk is read in order for guest inspection and holds more than the guest cache of ${opts.maxCacheBytes} bytes; raise guest.maxCacheBytes or inspect a raw copy`, { file: name, offset: e.offset });
      }
      pieces.push({ offset: e.offset, data: e.data });
    }
    return new SnapshotBytes(disk.virtualSize, name, pieces, kept);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let i = this.firstPieceEndingAfter(offset);
    for (; i < this.pieces.length; i++) {
      const p = this.pieces[i]!;
      if (p.offset >= offset + length) break;
      const from = Math.max(offset, p.offset);
      const to = Math.min(offset + length, p.offset + p.data.length);
      p.data.copy(out, from - offset, from - p.offset, to - p.offset);
    }
    return out;
  }

  private firstPieceEndingAfter(offset: number): number {
    let lo = 0;
    let hi = this.pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = this.pieces[mid]!;
      if (p.offset + p.data.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
