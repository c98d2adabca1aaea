import { createHash } from 'node:crypto';
import type { DiskSource } from '../../../disk/disk-source.js';
import { CORE } from '../../../core/error-codes.js';
import { vmxError } from '../../../core/errors.js';
import type { DiskWriter, EncoderSettings, WriteOptions } from '../../format-writer.js';
import { createStreamOptimizedWriter, maxStreamOptimizedSize, reproduceStreamOptimized } from '../../vmdk/stream-optimized-writer.js';
import { identityCid, randomCid } from '../../vmdk/writer-options.js';
import { SECTOR_BYTES, sectorsFor } from '../../vmdk/writer-layout.js';
import { buildOvfDescriptor, MAX_OVA_DISKS } from './ovf-descriptor-writer.js';
import { emitSizedDisk, sizeDisk, type SizedDisk } from './sized-disk.js';
import { encodeMemberHeader, endOfArchive, memberPadding } from './tar-header-writer.js';

export interface OvaWriterOptions {
  /** Encoded VMDK bytes kept in memory to spare a second encoding (all disks together). Default 64 MiB. */
  holdBytes?: number;
  /** zlib level of the VMDK grains. Default 1. */
  compressionLevel?: number;
  /** The deflate implementation of the VMDK grains (see StreamOptimizedOptions.compressor). */
  compressor?: string | undefined;
  cpus?: number;
  memoryMiB?: number;
}

const DEFAULT_HOLD = 64 * 1024 * 1024;
/** Descriptor, manifest and their headers: generous bounds for maxOutputSize. */
const METADATA_BOUND = 64 * 1024;

/**
 * An OVA (DSP0243 §5.3 "Distribution as a single file"): the .ovf descriptor first, then each disk
 * as a stream-optimized VMDK member in References order, then the .mf manifest with SHA256 lines,
 * then the end-of-archive blocks. Member sizes come from a sizing pass (see sized-disk.ts), which
 * keeps the VMDK convention of footer and end-of-stream marker at the very end of the member —
 * padding a member to an upper bound would put zeros where readers look for the footer.
 */
export interface MultiDiskWriter extends DiskWriter {
  writeMany(sources: DiskSource[], w?: WriteOptions): AsyncGenerator<Buffer>;
}

export function isMultiDiskWriter(w: DiskWriter): w is MultiDiskWriter {
  return typeof (w as Partial<MultiDiskWriter>).writeMany === 'function';
}

/** Bumped when the same sources, identity and settings would give other bytes (2: CIDs and tar mtimes derive from the identity; 3: as vmdk-stream/3). */
export const OVA_WRITER_VERSION = 'ova/3';

export function createOvaWriter(opts: OvaWriterOptions = {}): MultiDiskWriter {
  const o: ResolvedOva = { holdBytes: opts.holdBytes ?? DEFAULT_HOLD, compressionLevel: opts.compressionLevel ?? 1, compressor: opts.compressor, cpus: opts.cpus ?? 1, memoryMiB: opts.memoryMiB ?? 1024 };
  // The disks' encoder: the grains' compressor and level decide the OVA's bytes.
  const disk = createStreamOptimizedWriter({ compressionLevel: o.compressionLevel, compressor: o.compressor });
  return {
    target: 'ova',
    patchableHead: () => 0,
    maxOutputSize: (source) => maxOvaSize([source]),
    write: (source, w = {}) => writeOva([source], o, w),
    writeMany: (sources, w = {}) => writeOva(sources, o, w),
    compressor: disk.compressor,
    encoder: { ...disk.encoder, writer: OVA_WRITER_VERSION },
    reproduce: (e: EncoderSettings) => {
      const vmdk = reproduceStreamOptimized({}, e, OVA_WRITER_VERSION, 'OVA');
      if (typeof vmdk === 'string') return vmdk;
      return createOvaWriter({ ...opts, compressor: vmdk.encoder.compressor, compressionLevel: vmdk.encoder.level ?? 0 });
    },
  };
}

type ResolvedOva = Required<Omit<OvaWriterOptions, 'compressor'>> & { compressor: string | undefined };

export const ovaWriter = createOvaWriter();

export function maxOvaSize(sources: DiskSource[]): number {
  return METADATA_BOUND + sources.reduce((n, s) => n + 3 * 512 + maxStreamOptimizedSize(s.virtualSize), 0);
}

async function* writeOva(sources: DiskSource[], o: ResolvedOva, w: WriteOptions): AsyncGenerator<Buffer> {
  if (sources.length === 0 || sources.length > MAX_OVA_DISKS) {
    throw vmxError(CORE.USAGE, `an OVA holds 1 to ${MAX_OVA_DISKS} disks, not ${sources.length}`);
  }
  const base = packageBaseName(w.outputName);
  const budget = { left: o.holdBytes };
  const sized: SizedDisk[] = [];
  for (const [i, source] of sources.entries()) {
    const cid = w.identity ? identityCid(w.identity.uniqueId, i + 1) : randomCid();
    const writer = createStreamOptimizedWriter({ cid, compressionLevel: o.compressionLevel, compressor: o.compressor });
    sized.push(await sizeDisk(source, `${base}-disk${i + 1}.vmdk`, writer, budget, w.signal));
  }
  const descriptor = Buffer.from(
    buildOvfDescriptor(
      { name: base, cpus: o.cpus, memoryMiB: o.memoryMiB },
      sized.map((d, i) => ({ href: d.member, fileSize: d.size, capacityBytes: sectorsFor(sources[i]!.virtualSize) * SECTOR_BYTES })),
    ),
  );
  const lines: string[] = [];
  const mtime = w.identity ? Math.max(0, Math.floor(w.identity.createdAtMs / 1000)) : undefined;
  yield* member(`${base}.ovf`, [descriptor], lines, mtime);
  for (const [i, d] of sized.entries()) yield* member(d.member, emitSizedDisk(d, sources[i]!, w.signal), lines, mtime, d.size);
  yield* member(`${base}.mf`, [Buffer.from(lines.join(''))], undefined, mtime);
  yield endOfArchive();
}

/** Header, body (hashed into a SHA256 manifest line), padding. */
async function* member(name: string, body: Iterable<Buffer> | AsyncIterable<Buffer>, manifest: string[] | undefined, mtime: number | undefined, size?: number): AsyncGenerator<Buffer> {
  const parts = Array.isArray(body) ? body : undefined;
  const length = size ?? parts!.reduce((n, b) => n + b.length, 0);
  yield encodeMemberHeader(name, length, mtime);
  const hash = createHash('sha256');
  for await (const b of body) {
    hash.update(b);
    yield b;
  }
  yield memberPadding(length);
  // VMware's line style: "SHA256(name)= hex".
  manifest?.push(`SHA256(${name})= ${hash.digest('hex')}\n`);
}

/** The destination's name without ".ova", restricted to characters safe in tar names and XML ids. */
function packageBaseName(outputName: string | undefined): string {
  const stem = (outputName ?? 'vm.ova').replace(/\.ova$/i, '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return /^[A-Za-z0-9]/.test(stem) ? stem : `vm${stem}`;
}
