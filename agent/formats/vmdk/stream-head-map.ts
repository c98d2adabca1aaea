import { vmxError } from '../../core/errors.js';
import { VMDK } from './error-codes.js';
import { SECTOR, gtCount, type SparseHeader } from './sparse-header.js';
import type { StreamBytes } from './stream-bytes.js';

/** What the grain tables in a stream's head promise: how many grains follow, and the last one's index. */
export interface HeadGrainCount {
  grains: number;
  lastGrain: number;
}

/**
 * qemu-img (7.2) writes a stream-optimized VMDK with its grain directory and tables in the head
 * (header gdOffset is a real sector, not GD_AT_END) and no footer or end-of-stream marker. Such a
 * stream can only end at EOF, so the tables are read as they pass, keeping two numbers, not the
 * tables: EOF is then an end only when exactly the grains they list came (a cut stream is refused).
 * Undefined when the header defers the directory to the footer (VMware's layout, VMDK 5.0
 * §"Stream-Optimized Compressed Sparse Extents") or the tables are not in ascending order before
 * the first grain; such a stream needs its end-of-stream marker.
 */
export async function readHeadGrainCount(bytes: StreamBytes, h: SparseHeader, name: string): Promise<HeadGrainCount | undefined> {
  const gdAt = h.gdOffset * SECTOR;
  const firstGrain = h.overHead * SECTOR;
  if (h.gdAtEnd || h.gdOffset === 0 || gdAt < bytes.position || gdAt >= firstGrain) return undefined;
  await skipExactly(bytes, gdAt - bytes.position, name, 'the grain directory');
  const gd = await readExactly(bytes, gtCount(h) * 4, name, 'the grain directory');
  const gtBytes = h.numGTEsPerGT * 4;
  const count: HeadGrainCount = { grains: 0, lastGrain: -1 };
  for (let i = 0; i < gd.length / 4; i++) {
    const gtAt = gd.readUInt32LE(i * 4) * SECTOR;
    if (gtAt === 0) continue;
    if (gtAt < bytes.position || gtAt + gtBytes > firstGrain) return undefined;
    await skipExactly(bytes, gtAt - bytes.position, name, `grain table ${i}`);
    countGrains(await readExactly(bytes, gtBytes, name, `grain table ${i}`), i * h.numGTEsPerGT, count);
  }
  return count;
}

/** GTE 0 is unallocated and 1 a zeroed grain (VMDK 5.0 §"Grain Table"): neither has a grain in the stream. */
function countGrains(gt: Buffer, firstIndex: number, count: HeadGrainCount): void {
  for (let j = 0; j < gt.length / 4; j++) {
    if (gt.readUInt32LE(j * 4) <= 1) continue;
    count.grains++;
    count.lastGrain = firstIndex + j;
  }
}

async function readExactly(bytes: StreamBytes, n: number, name: string, what: string): Promise<Buffer> {
  const b = await bytes.read(n);
  if (b.length < n) throw vmxError(VMDK.TRUNCATED, `the stream ends inside ${what}`, { file: name, offset: bytes.position });
  return b;
}

async function skipExactly(bytes: StreamBytes, n: number, name: string, what: string): Promise<void> {
  if ((await bytes.skip(n)) < n) throw vmxError(VMDK.TRUNCATED, `the stream ends before ${what}`, { file: name, offset: bytes.position });
}
