import { parseCommand, requirePositionals } from '../args.js';
import { openDisk } from '../../formats/detect.js';
import type { DiskInfo } from '../../disk/disk-source.js';
import { formatBytes } from '../../core/units.js';

export const INSPECT_USAGE = `Usage: vmxfer inspect PATH [--json] [--format FMT] [--parent FILE]

Prints what PATH is: format, subformat, virtual size, allocated bytes, the files it reads
(extents, parents) and any warnings. --json prints one JSON object instead.
  --format FMT    skip detection and read PATH as FMT
  --parent FILE   the parent of a differencing/delta disk when it is not beside it`;

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, format: { type: 'string' }, parent: { type: 'string' } },
    INSPECT_USAGE,
  );
  if (values.help) return printUsage(INSPECT_USAGE);
  const [path] = requirePositionals(positionals, ['PATH'], INSPECT_USAGE);
  const disk = await openDisk(path!, { format: values.format as string | undefined, parent: values.parent as string | undefined });
  try {
    const info = disk.info;
    if (values.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    else process.stdout.write(describe(info, ''));
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
  for (const [k, v] of Object.entries(info.details ?? {})) lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  for (const w of info.warnings) lines.push(`warning: ${w}`);
  let text = lines.map((l) => indent + l).join('\n') + '\n';
  if (info.parent) text += `${indent}parent:\n` + describe(info.parent, indent + '  ');
  return text;
}

export function printUsage(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}
