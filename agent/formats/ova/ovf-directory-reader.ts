import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DiskSource } from '../../disk/disk-source.js';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import { fsError } from '../../io/random-access-file.js';
import type { FormatReader, OpenOptions, ProbeInput } from '../format-reader.js';
import { openDisk } from '../detect.js';
import { vmdkStreamReader } from '../vmdk/stream-reader.js';
import { OVA } from './error-codes.js';
import { MAX_DESCRIPTOR_BYTES, parseEnvelope } from './ovf/ovf-envelope.js';
import type { OvfEnvelope, OvfFile } from './ovf/ovf-types.js';
import { ManifestLedger, type ManifestVerdict } from './manifest/manifest-ledger.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest/manifest-file.js';
import { openOvfFile, type MemberSource } from './file-stream.js';
import { fileOfDisk } from './ova-summary.js';
import { blankDisk } from './blank-disk.js';
import { checkDiskIndex, packageDiskInfo } from './ova-reader.js';
import { PackageDisk } from './package-disk.js';
import { chunkName } from './chunk-names.js';

/**
 * An OVF package as a set of files (DSP0243 §5.4 "Distribution as a set of files"): a .ovf with
 * its disks beside it and optionally NAME.mf. Files are seekable here, so a plain disk is opened
 * with the ordinary readers (any VMDK kind, even qcow2 or raw); chunked or gzip files are read as
 * one stream. The manifest is verified up front by hashing every file it lists.
 */
export const ovfDirectoryReader: FormatReader = {
  name: 'ovf',
  probe: probeOvf,
  async open(path: string, opts: OpenOptions): Promise<DiskSource> {
    const env = parseEnvelope(await readDescriptor(path), path);
    const index = opts.disk ?? 1;
    checkDiskIndex(env, index, path);
    const verdict = await verifyDirectory(path, env, opts.signal);
    const inner = await openDirectoryDisk(path, env, index, opts);
    const info = packageDiskInfo('ovf', path, basename(path), env, index, inner);
    const pkg = new PackageDisk(inner, info, { close: async () => undefined });
    info.details!['manifest'] = verdict;
    return pkg;
  },
};

function probeOvf(input: ProbeInput): boolean {
  const text = input.head.toString('utf8', 0, Math.min(input.head.length, 8192)).replace(/^\uFEFF/, '').trimStart();
  return text.startsWith('<') && /<([A-Za-z_][\w.-]*:)?Envelope[\s>]/.test(text) && text.includes('schemas.dmtf.org/ovf/envelope/');
}

async function readDescriptor(path: string): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw fsError(err, path);
  }
  if (size > MAX_DESCRIPTOR_BYTES) throw vmxError(OVA.DESCRIPTOR_TOO_LARGE, `OVF descriptor is ${size} bytes, over the ${MAX_DESCRIPTOR_BYTES}-byte limit`, { file: path });
  return readFile(path);
}

async function openDirectoryDisk(path: string, env: OvfEnvelope, index: number, opts: OpenOptions): Promise<DiskSource> {
  const file = fileOfDisk(env, index);
  if (!file) return blankDisk(env.disks[index - 1]!.capacityBytes, `${path}:${env.disks[index - 1]!.diskId}`);
  const dir = dirname(path);
  if (file.chunkSize === undefined && file.compression === undefined) {
    const disk = join(dir, file.href);
    if (!existsSync(disk)) throw vmxError(OVA.MISSING_FILE, `disk ${index} file "${file.href}" is not beside the descriptor`, { file: path });
    return openDisk(disk, { parent: opts.parent, signal: opts.signal });
  }
  const stream = await openOvfFile(directorySource(dir, path), file, `disk ${index} file`);
  return vmdkStreamReader.open(stream, { name: join(dir, file.href), signal: opts.signal });
}

/** Files beside the descriptor, presented like archive members (chunks must all exist). */
function directorySource(dir: string, descriptor: string): MemberSource {
  const member = async (name: string) => {
    const p = join(dir, name);
    if (!existsSync(p)) return undefined;
    return { name, size: (await stat(p)).size, body: createReadStream(p) };
  };
  return {
    name: descriptor,
    async seek(name, what) {
      const m = await member(name);
      if (!m) throw vmxError(OVA.MISSING_FILE, `${what} "${name}" is not beside the descriptor`, { file: descriptor });
      return m;
    },
    nextIf: member,
  };
}

/** Hashes the descriptor and every referenced file present against NAME.mf, when there is one. */
async function verifyDirectory(path: string, env: OvfEnvelope, signal: AbortSignal | undefined): Promise<ManifestVerdict> {
  const dir = dirname(path);
  const mfName = basename(path).replace(/\.ovf$/i, '') + '.mf';
  const ledger = new ManifestLedger(path);
  const mfPath = join(dir, mfName);
  if (!existsSync(mfPath)) return ledger.verdict(true);
  const mf = await readFile(mfPath);
  if (mf.length > MAX_MANIFEST_BYTES) throw vmxError(OVA.BAD_MANIFEST, `manifest is ${mf.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`, { file: mfPath });
  ledger.setManifest(mfName, parseManifest(mf, mfPath));
  for (const name of [basename(path), ...env.files.flatMap((f) => presentMembers(dir, f))]) {
    const tap = ledger.tapFor(name);
    if (!tap) continue;
    for await (const chunk of createReadStream(join(dir, name), { highWaterMark: 1024 * 1024 })) {
      throwIfAborted(signal);
      tap.update(chunk as Buffer);
    }
    tap.end();
  }
  return ledger.verdict(true);
}

function presentMembers(dir: string, f: OvfFile): string[] {
  if (f.chunkSize === undefined) return existsSync(join(dir, f.href)) ? [f.href] : [];
  const names: string[] = [];
  for (let i = 0; existsSync(join(dir, chunkName(f.href, i))); i++) names.push(chunkName(f.href, i));
  return names;
}
