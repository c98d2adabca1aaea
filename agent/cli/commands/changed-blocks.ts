import { readFile } from 'node:fs/promises';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { parseSize } from '../../core/units.js';
import { fsError } from '../../io/random-access-file.js';
import { parseJson } from '../../incremental/changed-blocks/extent-list.js';
import { fromQemuMap, fromVmwareChangeInfo } from '../../incremental/changed-blocks/converters.js';

export const CHANGED_BLOCKS_USAGE = `Usage: vmxfer changed-blocks from-vmware FILE [--size SIZE]
       vmxfer changed-blocks from-qemu-map FILE

Prints the --changed-blocks list (docs/warm-migration.md, "Changed-block inputs") of
  from-vmware FILE     VMware QueryChangedDiskAreas output as JSON (DiskChangeInfo: startOffset,
                       length, changedArea[{start, length}]); the disk size is startOffset + length
                       unless --size gives it
  from-qemu-map FILE   qemu-img map --output=json of an overlay: the ranges whose data the top layer
                       holds (depth 0, data true), i.e. written since the overlay was made
  --size SIZE          the disk's virtual size in bytes (from-vmware)`;

export async function changedBlocksCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { size: { type: 'string' } }, CHANGED_BLOCKS_USAGE);
  if (values.help) return printUsage(CHANGED_BLOCKS_USAGE);
  const [how, file] = requirePositionals(positionals, ['from-vmware|from-qemu-map', 'FILE'], CHANGED_BLOCKS_USAGE);
  if (how !== 'from-vmware' && how !== 'from-qemu-map') throw vmxError(CORE.USAGE, `unknown source "${how}": from-vmware or from-qemu-map\n\n${CHANGED_BLOCKS_USAGE}`);
  if (how === 'from-qemu-map' && values.size !== undefined) throw vmxError(CORE.USAGE, `--size applies to from-vmware only: qemu-img map covers the whole disk\n\n${CHANGED_BLOCKS_USAGE}`);
  const text = await readFile(file!, 'utf8').catch((err) => {
    throw fsError(err, file!);
  });
  const size = values.size === undefined ? undefined : parseSize(values.size as string, '--size');
  const list = parseJson(text, file!, (x, where) => (how === 'from-vmware' ? fromVmwareChangeInfo(x, where, size) : fromQemuMap(x, where)));
  process.stdout.write(JSON.stringify(list) + '\n');
  return 0;
}
