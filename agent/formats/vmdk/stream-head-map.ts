import { vmxError } from '../../core/errors.js';
import { VMDK } from './error-codes.js';
import { GrainLedger, summariseTable } from './grain-ledger.js';
import { SECTOR, gtCount, type SparseHeader } from './sparse-header.js';
import type { StreamBytes } from './stream-bytes.js';

/**
 * qemu-img (7.2) writes a stream-optimized VMDK with its grain directory and tables in the head
 * (header gdOffset is a real sector, not GD_AT_END) and no footer or end-of-stream marker. Such a
 * stream can only end at EOF (or qemu's zero sector), so the tables are read as they pass, keeping a
 * ledger of the grains they list, not the tables: the end is an end only when exactly those grains
 * came, each at the sector its table says (a cut stream or a damaged grain marker is refused).
 * Undefined when the header defers the directory to the footer (VMware's layout, VMDK 5.0
 * §"Stream-Optimized Compressed Sparse Extents") or the tables are not in ascending order before
 * the first grain; such a stream needs its end-of-stream marker.
 */
export async function readHeadGrainLedger(bytes: StreamBytes, h: SparseHeader, name: string): Promise<GrainLedger | undefined> {
  const gdAt = h.gdOffset * SECTOR;
  const firstGrain = h.overHead * SECTOR;
  if (h.gdAtEnd || h.gdOffset === 0 || gdAt < bytes.position || gdAt + gtCount(h) * 4 > firstGrain) return undefined;
  await skipExactly(bytes, gdAt - bytes.position, name, 'the grain directory');
  const gd = await readExactly(bytes, gtCount(h) * 4, name, 'the grain directory');
  const gtBytes = h.numGTEsPerGT * 4;
  const ledger = new GrainLedger();
  for (let i = 0; i < gd.length / 4; i++) {
    const gtAt = gd.readUInt32LE(i * 4) * SECTOR;
    if (gtAt === 0) continue;
    if (gtAt < bytes.position || gtAt + gtBytes > firstGrain) return undefined;
    await skipExactly(bytes, gtAt - bytes.position, name, `grain table ${i}`);
    const first = i * h.numGTEsPerGT;
    summariseTable(await readExactly(bytes, gtBytes, name, `grain table ${i}`), h.zeroedGrainGTEs, (j, sector) => ledger.add(first + j, sector));
  }
  return ledger;
}

async function readExactly(bytes: StreamBytes, n: number, name: string, what: string): Promise<Buffer> {
  const b = await bytes.read(n);
  if (b.length < n) throw vmxError(VMDK.TRUNCATED, `the stream ends inside ${what}`, { file: name, offset: bytes.position });
  return b;
}

async function skipExactly(bytes: StreamBytes, n: number, name: string, what: string): Promise<void> {
  if ((await bytes.skip(n)) < n) throw vmxError(VMDK.TRUNCATED, `the stream ends before ${what}`, { file: name, offset: bytes.position });
}
