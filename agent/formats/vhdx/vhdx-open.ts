import type { DiskInfo } from '../../disk/disk-source.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import { BatReader, batGeometry, type BatGeometry } from './bat.js';
import { blockRuns, type BlockMap } from './block-runs.js';
import { checkFileIdentifier, readCurrentHeader, type VhdxHeader } from './header.js';
import { HEADER_SECTION_SIZE } from './layout.js';
import { replayLog, type LogReplay } from './log-replay.js';
import { readMetadata } from './metadata.js';
import { parseParentLocator, type ParentLocator } from './parent-locator.js';
import { readRegions, type Regions } from './region-table.js';
import { VhdxDisk } from './vhdx-disk.js';

/** A single VHDX file opened and validated, before any parent is attached. */
export interface OpenedVhdx {
  readonly disk: VhdxDisk;
  readonly header: VhdxHeader;
  readonly parentLocator?: ParentLocator;
}

/**
 * Opening order follows [MS-VHDX] §2: identifier (§2.2.1), current header (§2.2.2), log replay in
 * memory (§2.3.3, before anything the log may have changed is read), region table (§2.2.3), metadata
 * (§2.6), BAT (§2.5). The whole BAT is walked once here so a bad entry fails the open, not the copy.
 */
export async function openVhdxFile(path: string, signal?: AbortSignal): Promise<OpenedVhdx> {
  const file = await RandomAccessFile.open(path);
  try {
    await checkFileIdentifier(file);
    const header = await readCurrentHeader(file);
    const log = await replayLog(file, header, signal);
    const regions = await readRegions(log.image);
    const meta = await readMetadata(log.image, regions.metadata);
    const geometry = batGeometry(meta, regions.bat, path);
    const map: BlockMap = { image: log.image, bat: new BatReader(log.image, regions.bat, geometry), geometry, meta, reserved: reservedAreas(header, regions) };
    const allocatedBytes = await countAllocated(map, signal);
    const parentLocator = meta.parentLocator ? parseParentLocator(meta.parentLocator, path, meta.parentLocatorOffset!) : undefined;
    const info = describe(path, header, log, regions, map, geometry, allocatedBytes, parentLocator);
    return { disk: new VhdxDisk(file, map, info), header, ...(parentLocator ? { parentLocator } : {}) };
  } catch (err) {
    await file.close();
    throw err;
  }
}

function reservedAreas(header: VhdxHeader, regions: Regions): BlockMap['reserved'] {
  const areas = [
    { name: 'header section', fileOffset: 0, length: HEADER_SECTION_SIZE },
    { name: 'BAT region', ...regions.bat },
    { name: 'metadata region', ...regions.metadata },
  ];
  if (header.logLength > 0) areas.push({ name: 'log', fileOffset: header.logOffset, length: header.logLength });
  return areas;
}

async function countAllocated(map: BlockMap, signal?: AbortSignal): Promise<number> {
  let bytes = 0;
  for await (const run of blockRuns(map, signal)) if (run.kind === 'data') bytes += run.length;
  return bytes;
}

function describe(
  path: string,
  header: VhdxHeader,
  log: LogReplay,
  regions: Regions,
  map: BlockMap,
  geometry: BatGeometry,
  allocatedBytes: number,
  parentLocator: ParentLocator | undefined,
): DiskInfo {
  const { meta } = map;
  const subformat = meta.hasParent ? 'differencing' : meta.leaveBlocksAllocated ? 'fixed' : 'dynamic';
  const warnings = [...meta.warnings];
  if (log.replayed) warnings.push(`the log was not empty: ${log.entriesReplayed} entr${log.entriesReplayed === 1 ? 'y' : 'ies'} replayed in memory (the file was not modified)`);
  if (regions.copyUsed !== 0) warnings.push('the primary region table is corrupt; the backup copy was used');
  return {
    format: 'vhdx',
    subformat,
    virtualSize: meta.virtualSize,
    allocatedBytes,
    files: [path],
    warnings,
    details: {
      blockSize: meta.blockSize,
      logicalSectorSize: meta.logicalSectorSize,
      physicalSectorSize: meta.physicalSectorSize,
      chunkRatio: geometry.chunkRatio,
      headerSequenceNumber: header.sequenceNumber.toString(),
      dataWriteGuid: header.dataWriteGuid,
      logReplayed: log.replayed,
      logEntriesReplayed: log.entriesReplayed,
      ...(log.headSequenceNumber !== undefined ? { logHeadSequenceNumber: log.headSequenceNumber.toString() } : {}),
      ...(meta.page83Data ? { page83Data: meta.page83Data } : {}),
      ...(parentLocator ? { parentLocator: Object.fromEntries(parentLocator) } : {}),
    },
  };
}
