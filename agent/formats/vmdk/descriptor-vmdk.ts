import { dirname, isAbsolute, resolve } from 'node:path';
import { vmxError } from '../../core/errors.js';
import { throwIfAborted } from '../../core/abort.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { VmdkComponent } from './component.js';
import { parseDescriptor, type ExtentLine } from './descriptor.js';
import { VMDK } from './error-codes.js';
import { FlatComponent } from './flat-component.js';
import { SparseComponent } from './sparse-component.js';
import { SECTOR } from './sparse-header.js';
import type { OpenedVmdk } from './binary-vmdk.js';
import { VmdkDisk } from './vmdk-disk.js';
import { vmdkInfo } from './vmdk-info.js';
import { ZeroComponent } from './zero-component.js';

/**
 * A descriptor text file (VMDK 5.0 §"The Descriptor File") and the extent files it names, in order:
 * monolithicFlat, vmfs, twoGbMaxExtentFlat/Sparse, custom layouts with ZERO extents.
 */
export async function openDescriptorVmdk(descFile: RandomAccessFile, signal?: AbortSignal): Promise<OpenedVmdk> {
  const descriptor = parseDescriptor(await descFile.read(0, descFile.size, 'descriptor'), descFile.path);
  if (descriptor.extents.length === 0) {
    throw vmxError(VMDK.MALFORMED_DESCRIPTOR, `malformed descriptor: it has no extent description lines`, { file: descFile.path, offset: 0 });
  }
  const components: VmdkComponent[] = [];
  const files = [descFile.path];
  let header;
  try {
    for (const line of descriptor.extents) {
      throwIfAborted(signal);
      const c = await openComponent(line, descFile.path, signal);
      components.push(c);
      if (line.fileName !== undefined) files.push(extentPath(descFile.path, line.fileName));
      if (c instanceof SparseComponent) header ??= c.header;
    }
  } catch (err) {
    await Promise.all(components.map((c) => c.close()));
    throw err;
  }
  const info = vmdkInfo({ subformat: descriptor.createType, components, files, header, descriptor });
  return { disk: new VmdkDisk(components, info), descriptor };
}

/** VMDK 5.0 §"Extent Descriptions": file names are relative to the descriptor's directory. */
function extentPath(descriptorPath: string, fileName: string): string {
  return isAbsolute(fileName) ? fileName : resolve(dirname(descriptorPath), fileName);
}

async function openComponent(line: ExtentLine, descPath: string, signal?: AbortSignal): Promise<VmdkComponent> {
  const size = line.sectors * SECTOR;
  if (line.access === 'NOACCESS') throw unsupported(line, descPath, 'a NOACCESS extent cannot be read');
  if (line.type === 'ZERO') return new ZeroComponent(size);
  if (line.type !== 'FLAT' && line.type !== 'VMFS' && line.type !== 'SPARSE') {
    throw unsupported(line, descPath, `extent type ${line.type} is not supported (FLAT, VMFS, SPARSE and ZERO are)`);
  }
  const file = await openExtentFile(extentPath(descPath, line.fileName!), line, descPath);
  try {
    if (line.type === 'SPARSE') return await SparseComponent.open(file, size, signal);
    return new FlatComponent(file, size, line.offsetSectors);
  } catch (err) {
    await file.close();
    throw err;
  }
}

async function openExtentFile(path: string, line: ExtentLine, descPath: string): Promise<RandomAccessFile> {
  try {
    return await RandomAccessFile.open(path);
  } catch (err) {
    if ((err as { code?: string }).code !== 'VMX_FILE_NOT_FOUND') throw err;
    throw vmxError(VMDK.MISSING_EXTENT_FILE, `line ${line.line} names extent file "${line.fileName}", which does not exist (looked for ${path})`, { file: descPath, cause: err });
  }
}

function unsupported(line: ExtentLine, file: string, why: string) {
  return vmxError(VMDK.UNSUPPORTED_EXTENT, `line ${line.line}: ${why}`, { file });
}

