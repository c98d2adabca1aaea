import { unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import { WRITERS, writerByTarget } from '../formats/registry.js';
import { checkUnpackDirectory, unpackOva, type UnpackResult } from '../formats/ova/unpack-ova.js';
import { fsError } from '../io/random-access-file.js';
import type { ExportResult } from '../workflows/export.js';
import { parseDiskOption } from './disk-option.js';

type Values = Record<string, string | boolean | undefined>;

/** What `vmxfer export` does with the object once it is local: keep it, convert it on the way, or unpack the OVA. */
export interface LocalStep {
  /** `--to`: a writer target; the download converts (agent/transfer/download.ts). */
  to?: string | undefined;
  /** `--disk N`: which disk of the instance export's OVA `--to` converts. */
  disk?: number | undefined;
  /** `--unpack`: DST is a directory; the OVA is downloaded beside it, unpacked, then removed. */
  unpack: boolean;
}

/**
 * Reads --to, --disk and --unpack and checks them before any cloud call, so a typo does not cost an
 * export: the writer must exist in this build, --unpack takes an instance export (the only OVA) and
 * a DST that is absent or empty, and --disk only means something to a conversion of an OVA.
 */
export async function localStep(values: Values, dst: string, instance: boolean, usage: string): Promise<LocalStep> {
  const to = values.to as string | undefined;
  const unpack = values.unpack === true;
  const disk = parseDiskOption(values.disk as string | undefined, usage);
  if (to !== undefined && !writerByTarget(to)) throw vmxError(CORE.UNSUPPORTED_TARGET, `--to ${to}: cannot write "${to}" (targets: ${WRITERS.map((w) => w.target).join(', ')})`);
  if (unpack && to !== undefined) throw vmxError(CORE.USAGE, `--unpack keeps the OVA's files as they are; it does not combine with --to\n\n${usage}`);
  if (unpack && !instance) throw vmxError(CORE.USAGE, `--unpack applies to an instance export (--instance-id), whose object is an OVA\n\n${usage}`);
  if (disk !== undefined && (to === undefined || !instance)) throw vmxError(CORE.USAGE, `--disk picks the disk of an instance export's OVA that --to converts\n\n${usage}`);
  if (unpack) await checkUnpackDirectory(resolve(dst));
  return { to, disk, unpack };
}

/** Where the OVA lands before it is unpacked into `dir`: a hidden sibling (its download stays resumable there). */
export function ovaCopyPath(dir: string): string {
  const d = resolve(dir);
  return join(dirname(d), `.${basename(d)}.download.ova`);
}

/** Unpacks the downloaded OVA into DST, then removes the copy (kept when the unpack fails, for a look at it). */
export async function unpackDownloaded(ova: string, dir: string, signal: AbortSignal): Promise<UnpackResult> {
  const r = await unpackOva(ova, dir, { signal });
  await unlink(ova).catch((err) => {
    throw fsError(err, ova);
  });
  return r;
}

/** The one-line summary of an export (as `vmxfer download` words a conversion). */
export function exportSummary(dst: string, r: ExportResult, unpacked: UnpackResult | undefined): string {
  const conv = r.conversion ? `, converted ${r.conversion.from} -> ${r.conversion.to} (${r.conversion.mode}), ${formatBytes(r.conversion.outputBytes)} written` : '';
  const unpack = unpacked ? `, unpacked into ${unpacked.members.length} file(s), manifest ${unpacked.manifest.status}` : '';
  const data = (r.dataDisks ?? []).map((d) => `${d.destination}: ${d.objectSize} bytes from ${r.bucket}/${d.key} (data disk), verified by ${d.verified}\n`).join('');
  return `${dst}: ${r.objectSize} bytes from ${r.bucket}/${r.key} (task ${r.taskId}), verified by ${r.verified}${conv}${unpack}\n${data}`;
}
