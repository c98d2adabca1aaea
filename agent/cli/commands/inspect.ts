import { parseCommand, requirePositionals } from '../args.js';
import { openDisk } from '../../formats/detect.js';
import type { DiskInfo } from '../../disk/disk-source.js';
import { formatBytes } from '../../core/units.js';
import { parseDiskOption } from '../disk-option.js';
import { inspectGuest } from '../../guest/inspector.js';
import { describeGuest } from '../../guest/describe-guest.js';
import { isPackageDisk } from '../../formats/ova/package-disk.js';

export const INSPECT_USAGE = `Usage: vmxfer inspect PATH [--json] [--guest] [--format FMT] [--parent FILE] [--disk N]

Prints what PATH is: format, subformat, virtual size, allocated bytes, the files it reads
(extents, parents) and any warnings. --json prints one JSON object instead.
  --format FMT    skip detection and read PATH as FMT
  --parent FILE   the parent of a differencing/delta disk when it is not beside it
  --guest         also look inside the disk (docs/guest.md): partition table, filesystems with labels and
                  UUIDs, encryption, boot modes, EFI loaders, OS, kernels, default boot entry, fstab, where
                  the root is; Windows version, edition, architecture and boot manager (NTFS); with --json
                  under the key "guest"
  --disk N        which disk of an OVA/OVF to describe (1-based, in OVF order; default 1); the whole
                  package is read to verify its manifest`;

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, guest: { type: 'boolean' }, format: { type: 'string' }, parent: { type: 'string' }, disk: { type: 'string' } },
    INSPECT_USAGE,
  );
  if (values.help) return printUsage(INSPECT_USAGE);
  const [path] = requirePositionals(positionals, ['PATH'], INSPECT_USAGE);
  const which = parseDiskOption(values.disk as string | undefined, INSPECT_USAGE);
  const disk = await openDisk(path!, { format: values.format as string | undefined, parent: values.parent as string | undefined, disk: which });
  try {
    if (isPackageDisk(disk)) await disk.verifyPackage();
    const info = disk.info;
    const guest = values.guest ? await inspectGuest(disk, path!) : undefined;
    if (values.json) process.stdout.write(JSON.stringify(guest ? { ...info, guest } : info, null, 2) + '\n');
    else process.stdout.write(describe(info, '') + (guest ? describeGuest(guest) : ''));
  } finally {
    await disk.close();
  }
  return 0;
}

function describe(info: DiskInfo, indent: string): string {
  const lines = [
    `format: ${info.format}${info.subformat ? ` (${info.subformat})` : ''}`,
    `virtual size: ${info.virtualSize} bytes (${formatBytes(info.virtualSize)})`,
  ];
  if (info.allocatedBytes !== undefined) lines.push(`allocated: ${info.allocatedBytes} bytes (${formatBytes(info.allocatedBytes)})`);
  lines.push(`files: ${info.files.join(', ')}`);
  for (const [k, v] of Object.entries(info.details ?? {})) lines.push(...detailLines(k, v));
  for (const w of info.warnings) lines.push(`warning: ${w}`);
  let text = lines.map((l) => indent + l).join('\n') + '\n';
  if (info.parent) text += `${indent}parent:\n` + describe(info.parent, indent + '  ');
  return text;
}

/** Arrays of objects (an OVA's disks) get a line each; other objects one JSON line. */
function detailLines(key: string, v: unknown): string[] {
  if (Array.isArray(v) && v.some((x) => typeof x === 'object' && x !== null)) return [`${key}:`, ...v.map((x) => `  - ${JSON.stringify(x)}`)];
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0 && key === 'hardware') {
    return [`${key}:`, ...Object.entries(v).map(([k, x]) => `  ${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)];
  }
  return [`${key}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`];
}

export function printUsage(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}
