import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ChainedDisk } from '../../disk/chain.js';
import type { DiskSource } from '../../disk/disk-source.js';
import { vmxError } from '../../core/errors.js';
import { RandomAccessFile, fileExists, fsError } from '../../io/random-access-file.js';
import type { OpenOptions } from '../format-reader.js';
import { openBinaryVmdk, type OpenedVmdk } from './binary-vmdk.js';
import { looksLikeDescriptor, MAX_DESCRIPTOR_BYTES, NO_PARENT_CID, type VmdkDescriptor } from './descriptor.js';
import { openDescriptorVmdk } from './descriptor-vmdk.js';
import { VMDK } from './error-codes.js';
import { isSparseMagic, SECTOR } from './sparse-header.js';
import { hex8 } from './vmdk-info.js';

/** Longest delta chain followed before it is taken for a loop. */
export const MAX_CHAIN_DEPTH = 64;

/**
 * Opens a VMDK (binary sparse file or descriptor) and, for a delta disk (VMDK 5.0 §"Delta Links":
 * parentCID and parentFileNameHint), its parents, merged with ChainedDisk. `chain` holds the real
 * paths of the children already open, to refuse loops.
 */
export async function openVmdk(path: string, opts: OpenOptions, chain: readonly string[] = []): Promise<DiskSource> {
  const real = await realpath(path).catch((err) => {
    throw fsError(err, path);
  });
  if (chain.includes(real) || chain.length >= MAX_CHAIN_DEPTH) {
    throw vmxError(VMDK.PARENT_LOOP, `the delta chain ${[...chain, real].join(' -> ')} returns to a disk already in it or is over ${MAX_CHAIN_DEPTH} links`, { file: path });
  }
  const opened = await openOne(path, opts.signal);
  const d = opened.descriptor;
  if (!d || (d.parentCid === NO_PARENT_CID && d.parentFileNameHint === undefined)) return opened.disk;
  try {
    return await withParent(opened, d, path, chain.length === 0 ? opts.parent : undefined, [...chain, real], opts.signal);
  } catch (err) {
    await opened.disk.close();
    throw err;
  }
}

async function openOne(path: string, signal: AbortSignal | undefined): Promise<OpenedVmdk> {
  const file = await RandomAccessFile.open(path);
  try {
    const head = await file.read(0, Math.min(file.size, SECTOR), 'header');
    if (isSparseMagic(head)) return await openBinaryVmdk(file, signal);
    if (!looksLikeDescriptor(head, file.size)) {
      const what = file.size > MAX_DESCRIPTOR_BYTES ? 'it is too large for a descriptor' : 'it has no "# Disk DescriptorFile" or createType line';
      throw vmxError(VMDK.BAD_MAGIC, `neither a sparse extent (no "KDMV" magic) nor a descriptor: ${what}`, { file: path, offset: 0 });
    }
    const opened = await openDescriptorVmdk(file, signal);
    await file.close();
    return opened;
  } catch (err) {
    await file.close();
    throw err;
  }
}

async function withParent(child: OpenedVmdk, d: VmdkDescriptor, path: string, explicit: string | undefined, chain: string[], signal: AbortSignal | undefined): Promise<DiskSource> {
  const hint = d.parentFileNameHint;
  const parentPath = explicit ?? (hint === undefined ? undefined : isAbsolute(hint) ? hint : resolve(dirname(path), hint));
  if (parentPath === undefined) {
    throw vmxError(VMDK.MISSING_PARENT, `parentCID is ${hex8(d.parentCid)} (a delta disk) but there is no parentFileNameHint and no --parent was given`, { file: path });
  }
  if (!(await fileExists(parentPath))) {
    throw vmxError(VMDK.MISSING_PARENT, `the parent ${parentPath}${explicit ? ' (--parent)' : ` (parentFileNameHint "${hint}")`} does not exist`, { file: path });
  }
  const parent = await openVmdk(parentPath, { signal }, chain);
  const parentCid = parent.info.details?.['cid'];
  if (parentCid !== undefined && parentCid !== hex8(d.parentCid)) {
    child.disk.info.warnings.push(`parentCID ${hex8(d.parentCid)} does not match the parent's CID ${String(parentCid)}: the parent changed after this delta was made`);
  }
  return new ChainedDisk(child.disk, parent);
}
