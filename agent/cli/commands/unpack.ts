import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { formatBytes } from '../../core/units.js';
import { unpackOva, type UnpackResult } from '../../formats/ova/unpack-ova.js';

export const UNPACK_USAGE = `Usage: vmxfer unpack OVA DIR [--json]

Extracts every member of a local OVA (the .ovf descriptor, the .mf manifest, the disks, a .cert if
any) into DIR, which must not exist or be empty. Members are streamed one at a time; names are
checked (no absolute paths, no "..", no links or devices); each member listed in the manifest is
checked against its SHA-1/SHA-256/SHA-512 digest as it is written. The files appear in DIR only
when the whole archive has been read and verified; on a mismatch nothing is left (exit 6).
  --json    one JSON object: directory, members, manifest verdict, warnings`;

export async function unpackCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, UNPACK_USAGE);
  if (values.help) return printUsage(UNPACK_USAGE);
  const [ova, dir] = requirePositionals(positionals, ['OVA', 'DIR'], UNPACK_USAGE);
  const r = await unpackOva(ova!, dir!, { signal });
  if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
  else process.stdout.write(describeUnpack(r));
  return 0;
}

/** The human lines of an unpack: one per member, the manifest's verdict, then warnings (stderr). */
export function describeUnpack(r: UnpackResult): string {
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  const lines = r.members.map((m) => `  ${m.name} (${formatBytes(m.size)})`);
  const manifest = r.manifest.status === 'verified' ? `verified by ${r.manifest.manifest} (${r.manifest.algorithms.join(', ').toUpperCase()}, ${r.manifest.verified.length} file(s))` : 'not verified: the OVA has no manifest';
  return `${r.directory}: ${r.members.length} file(s), ${manifest}\n${lines.join('\n')}\n`;
}
