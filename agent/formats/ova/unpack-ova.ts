import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { abortedError } from '../../core/abort.js';
import { vmxError, VmxferError } from '../../core/errors.js';
import { fsError } from '../../io/random-access-file.js';
import { OVA } from './error-codes.js';
import { TarReader, type TarEntry } from './tar/tar-reader.js';
import { ManifestLedger, isManifestName, verdictWarnings, type ManifestVerdict } from './manifest/manifest-ledger.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest/manifest-file.js';
import { readSmallMember } from './member-bytes.js';

export interface UnpackOptions {
  signal?: AbortSignal | undefined;
}

export interface UnpackedMember {
  /** The member's name in the archive, which is also its path under the directory. */
  name: string;
  size: number;
}

export interface UnpackResult {
  directory: string;
  /** The OVF descriptor (the archive's first member). */
  descriptor: string;
  /** Every regular file, in archive order. */
  members: UnpackedMember[];
  /** The manifest check: `verified` when every listed member matched its digest. */
  manifest: ManifestVerdict;
  warnings: string[];
}

/**
 * Extracts an OVA (DSP0243 §5.3: a ustar archive whose first member is the .ovf descriptor) into a
 * new directory, one member at a time with backpressure (memory stays bounded whatever the disk
 * sizes). Names pass the tar reader's path rules (tar-path.ts: no absolute paths, no "..", no
 * links, devices or duplicates), and every member body goes through the manifest ledger as it is
 * written, so the SHA-1/SHA-256/SHA-512 lines of the .mf (DSP0243 §5.1) are checked whether the
 * manifest comes before or after the disks. Members land in a hidden sibling that is renamed to
 * `directory` only once the archive's end is reached and the manifest agrees; on any failure the
 * sibling is removed, so no unverified file is left behind.
 */
export async function unpackOva(ova: string, directory: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const dir = resolve(directory);
  await checkUnpackDirectory(dir);
  const staging = join(dirname(dir), `.${basename(dir)}.vmxfer-partial`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true }).catch((err) => {
    throw fsError(err, staging);
  });
  try {
    const unpacked = await extractAll(ova, staging, opts);
    await rename(staging, dir).catch((err) => {
      throw fsError(err, dir);
    });
    return { directory: dir, ...unpacked };
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Unpacking never overwrites: `dir` must be absent or an empty directory (rename(2) replaces only those). */
export async function checkUnpackDirectory(directory: string): Promise<void> {
  const entries = await readdir(directory).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR') throw vmxError(OVA.UNPACK_DIR_NOT_EMPTY, 'exists and is not a directory', { file: directory });
    throw fsError(err, directory);
  });
  if (entries.length > 0) throw vmxError(OVA.UNPACK_DIR_NOT_EMPTY, `already holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}; unpack into a new or empty directory`, { file: directory });
}

async function extractAll(ova: string, staging: string, opts: UnpackOptions): Promise<Omit<UnpackResult, 'directory'>> {
  const ledger = new ManifestLedger(ova);
  const stream = createReadStream(ova, { highWaterMark: 1024 * 1024 });
  const tar = new TarReader(stream, ova, { signal: opts.signal, onMember: (e) => ledger.tapFor(e.name) });
  try {
    const members: UnpackedMember[] = [];
    for (let e = await tar.next(); e; e = await tar.next()) {
      if (members.length === 0 && !e.name.toLowerCase().endsWith('.ovf')) {
        throw vmxError(OVA.NOT_OVA, `the first member is "${e.name}", not the OVF descriptor (.ovf) an OVA starts with`, { file: ova, offset: e.headerOffset });
      }
      if (isManifestName(e.name) && !ledger.hasManifest) await extractManifest(e, ova, staging, ledger);
      else await extractMember(e, staging, opts.signal);
      members.push({ name: e.name, size: e.size });
    }
    if (members.length === 0) throw vmxError(OVA.NOT_OVA, 'the archive holds no member, not even the OVF descriptor', { file: ova });
    const manifest = ledger.verdict(true);
    return { descriptor: members[0]!.name, members, manifest, warnings: [...verdictWarnings(manifest), ...certificateWarnings(members)] };
  } finally {
    await tar.close();
  }
}

/** Where a member goes: its (already safe) name under the staging directory, checked once more. */
function targetOf(staging: string, name: string): string {
  const target = resolve(staging, name);
  if (!target.startsWith(staging + sep)) throw vmxError(OVA.TAR_UNSAFE_PATH, `member name ${JSON.stringify(name)} resolves outside the directory`, { file: staging });
  return target;
}

/** A body streamed to its file ("wx": never through an existing file or link); the ledger sees every byte. */
async function extractMember(e: TarEntry, staging: string, signal?: AbortSignal): Promise<void> {
  const target = targetOf(staging, e.name);
  await mkdir(dirname(target), { recursive: true }).catch((err) => {
    throw fsError(err, dirname(target));
  });
  const out = createWriteStream(target, { flags: 'wx' });
  await pipeline(e.body, out, { signal }).catch((err: unknown) => {
    if (err instanceof VmxferError) throw err;
    if (signal?.aborted) throw abortedError(signal);
    throw fsError(err, target);
  });
}

/** The manifest is small (bounded): read whole, given to the ledger (which checks members already written), then written. */
async function extractManifest(e: TarEntry, ova: string, staging: string, ledger: ManifestLedger): Promise<void> {
  const where = { file: ova, offset: e.dataOffset };
  const bytes = await readSmallMember(e.body, e.size, MAX_MANIFEST_BYTES, OVA.BAD_MANIFEST, where, `manifest "${e.name}"`);
  ledger.setManifest(e.name, parseManifest(bytes, `${ova}:${e.name}`));
  const target = targetOf(staging, e.name);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, bytes, { flag: 'wx' }).catch((err) => {
    throw fsError(err, target);
  });
}

/** A .cert (DSP0243 §5.2) signs the manifest; it is extracted, but its signature is not checked here. */
function certificateWarnings(members: UnpackedMember[]): string[] {
  return members.filter((m) => m.name.toLowerCase().endsWith('.cert')).map((m) => `"${m.name}" (the manifest's signing certificate) was extracted but its signature was not verified`);
}
