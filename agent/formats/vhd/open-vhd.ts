import { realpath } from 'node:fs/promises';
import { vmxError } from '../../core/errors.js';
import { ChainedDisk } from '../../disk/chain.js';
import type { DiskInfo, DiskSource } from '../../disk/disk-source.js';
import { fileExists, RandomAccessFile } from '../../io/random-access-file.js';
import { loadBlockLayout, UNALLOCATED_ENTRY, type BlockLayout } from './block-allocation-table.js';
import { HEADER_SIZE, parseDynamicHeader, type DynamicHeader } from './dynamic-header.js';
import { DynamicVhd } from './dynamic-vhd.js';
import { VHD } from './error-codes.js';
import { FixedVhd } from './fixed-vhd.js';
import { DISK_TYPE, FOOTER_SIZE, type VhdFooter } from './footer.js';
import { readFooter, typeName } from './footer-pair.js';
import { locatorRanges, parentCandidates } from './parent-locator.js';
import { chooseVirtualSize } from './virtual-size.js';

/** Longest differencing chain followed; Hyper-V's own snapshot trees stay far below. */
const MAX_CHAIN_DEPTH = 64;

export interface OpenedVhd {
  disk: DiskSource;
  footer: VhdFooter;
}

interface ChainState {
  /** Real paths of the files already in the chain, child first. */
  seen: string[];
  explicitParent: string | undefined;
}

/** Opens a VHD of any type; a differencing disk comes back merged over its parent chain. */
export async function openVhd(path: string, explicitParent?: string): Promise<DiskSource> {
  return (await openInChain(path, { seen: [], explicitParent })).disk;
}

async function openInChain(path: string, chain: ChainState): Promise<OpenedVhd> {
  const real = await realpath(path).catch(() => path);
  if (chain.seen.includes(real)) {
    throw vmxError(VHD.CHAIN_LOOP, `differencing chain ${[...chain.seen, real].join(' -> ')} refers back to a file already in it`, { file: path });
  }
  if (chain.seen.length >= MAX_CHAIN_DEPTH) {
    throw vmxError(VHD.CHAIN_LOOP, `differencing chain is deeper than ${MAX_CHAIN_DEPTH} disks`, { file: path });
  }
  const file = await RandomAccessFile.open(path);
  try {
    return await openFile(file, { seen: [...chain.seen, real], explicitParent: chain.explicitParent });
  } catch (err) {
    await file.close();
    throw err;
  }
}

async function openFile(file: RandomAccessFile, chain: ChainState): Promise<OpenedVhd> {
  const footer = await readFooter(file);
  const size = chooseVirtualSize(footer);
  const info = baseInfo(file, footer, size);
  if (footer.diskType === DISK_TYPE.fixed) return { disk: openFixed(file, footer, size.size, info), footer };
  const headerAt = checkHeaderOffset(file, footer);
  const header = parseDynamicHeader(await file.read(headerAt, HEADER_SIZE, 'dynamic disk header'), file.path, headerAt);
  const differencing = footer.diskType === DISK_TYPE.differencing;
  const layout = await loadBlockLayout(file, header, headerAt, size.size, differencing ? locatorRanges(header) : []);
  describeDynamic(info, header, layout, size.size);
  const child = new DynamicVhd(file, layout, size.size, info);
  if (!differencing) return { disk: child, footer };
  info.details!.parentUniqueId = header.parentUniqueId;
  info.details!.parentName = header.parentName;
  try {
    return { disk: await withParent(child, file, header, chain), footer };
  } catch (err) {
    await child.close();
    throw err;
  }
}

function baseInfo(file: RandomAccessFile, footer: VhdFooter, size: ReturnType<typeof chooseVirtualSize>): DiskInfo {
  const g = footer.geometry;
  return {
    format: 'vhd',
    subformat: typeName(footer.diskType),
    virtualSize: size.size,
    files: [file.path],
    warnings: size.note ? [size.note] : [],
    details: {
      creatorApp: footer.creatorApp,
      creatorVersion: `${footer.creatorVersion >>> 16}.${footer.creatorVersion & 0xffff}`,
      creatorOs: footer.creatorOs,
      currentSize: footer.currentSize,
      geometry: `${g.cylinders}/${g.heads}/${g.sectorsPerTrack}`,
      sizeFrom: size.source,
      uniqueId: footer.uniqueId,
      ...(footer.savedState ? { savedState: true } : {}),
    },
  };
}

function openFixed(file: RandomAccessFile, footer: VhdFooter, size: number, info: DiskInfo): DiskSource {
  const stored = file.size - FOOTER_SIZE;
  if (size > stored) {
    throw vmxError(VHD.FIXED_SIZE_MISMATCH, `fixed VHD declares a ${size}-byte disk but holds only ${stored} bytes before its footer`, { file: file.path, offset: stored + 48 });
  }
  if (footer.currentSize !== stored) info.warnings.push(`the file holds ${stored} bytes of disk data but the footer's Current Size is ${footer.currentSize}`);
  info.allocatedBytes = size;
  return new FixedVhd(file, size, info);
}

function checkHeaderOffset(file: RandomAccessFile, footer: VhdFooter): number {
  const at = footer.dataOffset;
  if (at === undefined || at < FOOTER_SIZE || at + HEADER_SIZE > file.size - FOOTER_SIZE) {
    throw vmxError(VHD.BAD_HEADER_OFFSET, `footer Data Offset ${at ?? 'beyond 2^53'} does not point at a 1024-byte dynamic disk header between the footer copy and the trailing footer`, { file: file.path, offset: file.size - FOOTER_SIZE + 16 });
  }
  return at;
}

function describeDynamic(info: DiskInfo, header: DynamicHeader, layout: BlockLayout, size: number): void {
  let allocated = 0;
  for (let b = 0; b < layout.entries.length; b++) {
    if (layout.entries[b] !== UNALLOCATED_ENTRY) allocated += Math.min(layout.blockSize, size - b * layout.blockSize);
  }
  // Counted by block: the sector bitmaps are read while streaming, not at open.
  info.allocatedBytes = allocated;
  info.details!.blockSize = layout.blockSize;
  info.details!.maxTableEntries = header.maxTableEntries;
}

async function withParent(child: DynamicVhd, file: RandomAccessFile, header: DynamicHeader, chain: ChainState): Promise<DiskSource> {
  const parentPath = chain.explicitParent ?? (await findParent(file, header));
  const parent = await openInChain(parentPath, { seen: chain.seen, explicitParent: undefined });
  if (parent.footer.uniqueId !== header.parentUniqueId) {
    await parent.disk.close();
    // An error, not a warning: merging over another disk yields plausible but wrong bytes.
    throw vmxError(VHD.PARENT_ID_MISMATCH, `differencing disk expects a parent with unique id ${header.parentUniqueId}, but ${parentPath} has ${parent.footer.uniqueId}`, { file: file.path, offset: 512 + 40 });
  }
  return new ChainedDisk(child, parent.disk);
}

async function findParent(file: RandomAccessFile, header: DynamicHeader): Promise<string> {
  const candidates = await parentCandidates(file, header);
  for (const c of candidates) if (await fileExists(c)) return c;
  const tried = candidates.length ? `tried ${candidates.join(', ')}` : 'it records no parent locator';
  throw vmxError(
    VHD.PARENT_MISSING,
    `this is a differencing VHD: it stores only changes and needs its parent disk to be read, and the parent was not found (${tried}). ` +
      `Pass the parent with --parent FILE or put it beside the child; converted alone it would be wrong (AWS VM Import refuses such a disk with "Footers not identical")`,
    { file: file.path },
  );
}
