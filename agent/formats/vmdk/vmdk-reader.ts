import type { FormatReader, ProbeInput } from '../format-reader.js';
import { looksLikeDescriptor } from './descriptor.js';
import { openVmdk } from './open-vmdk.js';
import { isSparseMagic } from './sparse-header.js';

/** VMDK: binary sparse files ("KDMV") and descriptor text files, with their extents and parents. */
export const vmdkReader: FormatReader = {
  name: 'vmdk',
  probe(input: ProbeInput): boolean {
    return isSparseMagic(input.head) || looksLikeDescriptor(input.head, input.size);
  },
  open(path, opts) {
    return openVmdk(path, opts);
  },
};
