import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { MAX_DESCRIPTOR_BYTES, parseDescriptor, type VmdkDescriptor } from './descriptor.js';
import { VMDK } from './error-codes.js';
import { SparseComponent } from './sparse-component.js';
import { SECTOR, type SparseHeader } from './sparse-header.js';
import { VmdkDisk } from './vmdk-disk.js';
import { vmdkInfo } from './vmdk-info.js';

export interface OpenedVmdk {
  disk: VmdkDisk;
  descriptor?: VmdkDescriptor | undefined;
}

/**
 * A single sparse file (monolithicSparse, streamOptimized, or one extent of a split disk opened
 * alone). Its embedded descriptor (VMDK 5.0 §"The Embedded Descriptor") gives createType, CIDs and
 * the parent; the data is this file itself whatever file name the descriptor's extent line gives.
 */
export async function openBinaryVmdk(file: RandomAccessFile, signal?: AbortSignal): Promise<OpenedVmdk> {
  const component = await SparseComponent.open(file, undefined, signal);
  const header = component.header;
  const descriptor = await embeddedDescriptor(file, header);
  const subformat = descriptor?.createType ?? (header.hasMarkers ? 'streamOptimized' : 'monolithicSparse');
  const info = vmdkInfo({ subformat, components: [component], files: [file.path], header, descriptor });
  return { disk: new VmdkDisk([component], info), descriptor };
}

async function embeddedDescriptor(file: RandomAccessFile, h: SparseHeader): Promise<VmdkDescriptor | undefined> {
  if (h.descriptorOffset === 0 || h.descriptorSectors === 0) return undefined;
  const bytes = h.descriptorSectors * SECTOR;
  if (bytes > MAX_DESCRIPTOR_BYTES) {
    throw vmxError(VMDK.MALFORMED_DESCRIPTOR, `embedded descriptor size ${h.descriptorSectors} sectors is over the ${MAX_DESCRIPTOR_BYTES}-byte limit`, { file: file.path, offset: 36 });
  }
  const at = h.descriptorOffset * SECTOR;
  if (at + bytes > file.size) {
    throw vmxError(VMDK.TRUNCATED, `embedded descriptor [${at}, ${at + bytes}) extends past the end of the file (${file.size} bytes)`, { file: file.path, offset: 28 });
  }
  return parseDescriptor(await file.read(at, bytes, 'embedded descriptor'), file.path, at);
}
