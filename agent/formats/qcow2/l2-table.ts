import { vmxError } from '../../core/errors.js';
import { QCOW2 } from './error-codes.js';
import type { Qcow2Header } from './qcow2-header.js';
import { overlappingMetadata, type FileRange } from './metadata-ranges.js';
import { pushPiece, type MapPiece } from './map-piece.js';

const TWO32 = 2 ** 32;
/** qcow2.txt §Extended L2 Entries: "standard data clusters are divided into 32 subclusters". */
const SUBCLUSTERS = 32;

/** What decoding an L2 table needs to know about the image. */
export interface L2Context {
  readonly header: Qcow2Header;
  readonly path: string;
  readonly fileSize: number;
  readonly metadata: readonly FileRange[];
}

/** Bytes per L2 entry: 8, or 16 with extended L2 entries (qcow2.txt §Extended L2 Entries). */
export function l2EntrySize(h: Qcow2Header): number {
  return h.extendedL2 ? 16 : 8;
}

/**
 * Decodes the L2 table at file offset `tableOffset` into pieces for the guest clusters
 * [firstCluster, firstCluster + count), merging neighbours (qcow2.txt §Cluster mapping).
 */
export function decodeL2Table(ctx: L2Context, table: Buffer, tableOffset: number, firstCluster: number, count: number): MapPiece[] {
  const out: MapPiece[] = [];
  const step = l2EntrySize(ctx.header);
  for (let i = 0; i < count; i++) {
    const at = i * step;
    decodeEntry(ctx, table, at, tableOffset + at, firstCluster + i, out);
  }
  return out;
}

function decodeEntry(ctx: L2Context, table: Buffer, at: number, fileOffset: number, cluster: number, out: MapPiece[]): void {
  const h = ctx.header;
  const offset = cluster * h.clusterSize;
  const length = Math.min(h.clusterSize, h.virtualSize - offset);
  const hi = table.readUInt32BE(at);
  const lo = table.readUInt32BE(at + 4);
  // Bit 62: compressed cluster (qcow2.txt §Cluster mapping, L2 table entry).
  if (hi & 0x40000000) {
    if (h.extendedL2 && (table.readUInt32BE(at + 8) | table.readUInt32BE(at + 12)) !== 0) {
      throw badEntry(ctx, fileOffset, 'a compressed cluster\'s subcluster bitmap must be zero (qcow2.txt §Extended L2 Entries)');
    }
    pushPiece(out, decodeCompressed(ctx, table.readBigUInt64BE(at), fileOffset, offset, length));
    return;
  }
  // Standard Cluster Descriptor: bits 1-8 and 56-61 reserved.
  if ((lo & 0x1fe) !== 0 || (hi & 0x3f000000) !== 0) throw badEntry(ctx, fileOffset, 'reserved bits 1-8 or 56-61 of a standard cluster descriptor are set');
  // Bits 9-55: host cluster offset.
  const host = (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
  const zeroFlag = (lo & 1) === 1;
  if (zeroFlag && (h.version === 2 || h.extendedL2)) {
    throw badEntry(ctx, fileOffset, `bit 0 of a standard cluster descriptor must be 0 ${h.version === 2 ? 'in version 2 images' : 'with extended L2 entries'}`);
  }
  if (host === 0 && (hi & 0x80000000) !== 0) throw badEntry(ctx, fileOffset, 'host offset 0 with bit 63 set is only valid with an external data file');
  if (h.extendedL2) {
    decodeSubclusters(ctx, table.readUInt32BE(at + 12), table.readUInt32BE(at + 8), host, fileOffset, offset, length, out);
    return;
  }
  if (zeroFlag) return pushPiece(out, { kind: 'zero', offset, length });
  if (host === 0) return pushPiece(out, { kind: 'unallocated', offset, length });
  checkDataCluster(ctx, host, length, fileOffset);
  pushPiece(out, { kind: 'data', offset, length, host });
}

/** qcow2.txt §Extended L2 Entries: bits 0-31 allocated, bits 32-63 reads-as-zero, subcluster x at bit x. */
function decodeSubclusters(ctx: L2Context, alloc: number, zero: number, host: number, fileOffset: number, offset: number, length: number, out: MapPiece[]): void {
  if ((alloc & zero) !== 0) throw badEntry(ctx, fileOffset, 'a subcluster is marked both allocated and reading as zero');
  if (alloc !== 0 && host === 0) throw badEntry(ctx, fileOffset, 'subclusters are marked allocated but the cluster has no host offset');
  const sub = ctx.header.clusterSize / SUBCLUSTERS;
  const used = Math.ceil(length / sub);
  if (alloc !== 0) {
    const lastAllocated = 31 - Math.clz32(alloc);
    checkDataCluster(ctx, host, Math.min(length, (lastAllocated + 1) * sub), fileOffset);
  }
  for (let s = 0; s < used; s++) {
    const start = offset + s * sub;
    const len = Math.min(sub, offset + length - start);
    const mask = 1 << s;
    if (alloc & mask) pushPiece(out, { kind: 'data', offset: start, length: len, host: host + s * sub });
    else pushPiece(out, { kind: zero & mask ? 'zero' : 'unallocated', offset: start, length: len });
  }
}

/** A data cluster must be cluster-aligned, inside the file and clear of the fixed metadata. */
function checkDataCluster(ctx: L2Context, host: number, needed: number, fileOffset: number): void {
  const where = { file: ctx.path, offset: fileOffset };
  if (host % ctx.header.clusterSize !== 0) {
    throw vmxError(QCOW2.DATA_UNALIGNED, `L2 entry points to data at ${host}, not aligned to the ${ctx.header.clusterSize}-byte cluster size`, where);
  }
  if (host + needed > ctx.fileSize) {
    throw vmxError(QCOW2.DATA_PAST_EOF, `L2 entry points to data at ${host}..${host + needed}, past the end of the file (${ctx.fileSize} bytes)`, where);
  }
  const hit = overlappingMetadata(ctx.metadata, host, host + ctx.header.clusterSize);
  if (hit) throw vmxError(QCOW2.DATA_IN_METADATA, `L2 entry points a data cluster at ${host} into ${hit.what} (${hit.start}..${hit.end})`, where);
}

/**
 * qcow2.txt §Compressed Clusters Descriptor (x = 62 - (cluster_bits - 8)): bits 0..x-1 the host
 * byte offset, bits x..61 the count of additional 512-byte sectors beyond the one holding the offset.
 */
function decodeCompressed(ctx: L2Context, entry: bigint, fileOffset: number, offset: number, length: number): MapPiece {
  const bits = ctx.header.clusterBits;
  const x = BigInt(62 - (bits - 8));
  const desc = entry & ((1n << 62n) - 1n);
  const hostBig = desc & ((1n << x) - 1n);
  const sectors = Number((desc >> x) & ((1n << BigInt(bits - 8)) - 1n)) + 1;
  const where = { file: ctx.path, offset: fileOffset };
  if (hostBig >= BigInt(ctx.fileSize)) {
    throw vmxError(QCOW2.DATA_PAST_EOF, `L2 entry points to compressed data at ${hostBig}, past the end of the file (${ctx.fileSize} bytes)`, where);
  }
  const host = Number(hostBig);
  const hit = overlappingMetadata(ctx.metadata, host, host + 1);
  if (hit) throw vmxError(QCOW2.DATA_IN_METADATA, `L2 entry points compressed data at ${host} into ${hit.what} (${hit.start}..${hit.end})`, where);
  const byteLength = sectors * 512 - (host % 512);
  return { kind: 'compressed', offset, length, host, byteLength, l2EntryOffset: fileOffset };
}

function badEntry(ctx: L2Context, fileOffset: number, rule: string) {
  return vmxError(QCOW2.BAD_L2_ENTRY, rule, { file: ctx.path, offset: fileOffset });
}
