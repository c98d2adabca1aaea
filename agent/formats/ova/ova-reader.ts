import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { DiskInfo, DiskSource } from '../../disk/disk-source.js';
import { vmxError } from '../../core/errors.js';
import type { FormatReader, OpenOptions, ProbeInput } from '../format-reader.js';
import { vmdkStreamReader } from '../vmdk/stream-reader.js';
import { openBinaryVmdk } from '../vmdk/binary-vmdk.js';
import type { VmdkDisk } from '../vmdk/vmdk-disk.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { TarEntry } from './tar/tar-reader.js';
import { OVA } from './error-codes.js';
import { OvaPackage, type OvaOpenOptions } from './ova-package.js';
import { PackageDisk } from './package-disk.js';
import { blankDisk } from './blank-disk.js';
import { openOvfFile } from './file-stream.js';
import { diskSummaries, fileOfDisk, hardwareSummary } from './ova-summary.js';
import type { OvfEnvelope } from './ovf/ovf-types.js';

/** The package's disks in OVF order; each must be read (or left) before the next is asked for. */
export interface OpenedOva {
  readonly package: OvaPackage;
  readonly envelope: OvfEnvelope;
  disks(): AsyncGenerator<PackageDisk>;
}

/**
 * Opens an OVA from a file or a non-seekable stream: the envelope at once, then a DiskSource per
 * disk in DiskSection order, streamed from the tar. The last disk's iteration reads the archive to
 * its end and verifies the manifest before it completes.
 */
export async function openOva(input: string | Readable, opts: OvaOpenOptions = {}): Promise<OpenedOva> {
  const pkg = await OvaPackage.open(input, opts);
  const count = pkg.envelope.disks.length;
  return {
    package: pkg,
    envelope: pkg.envelope,
    // The archive only moves forward: a disk is done with once the next is asked for (or the loop ends),
    // and its own file handle is closed then rather than left to the garbage collector (an error in Node 26, a deprecation warning in Node 20).
    async *disks() {
      for (let i = 1; i <= count; i++) {
        const disk = await openPackageDisk(pkg, i, { verifyAtEnd: i === count, signal: opts.signal });
        try {
          yield disk;
        } finally {
          await disk.release();
        }
      }
    },
  };
}

export function checkDiskIndex(env: OvfEnvelope, index: number, file: string): void {
  if (env.disks.length === 0) throw vmxError(OVA.NO_DISKS, 'the OVF DiskSection lists no disk', { file });
  if (!Number.isInteger(index) || index < 1 || index > env.disks.length) {
    throw vmxError(OVA.DISK_INDEX, `--disk ${index}: the package has ${env.disks.length} disk(s), numbered from 1 in OVF order`, { file });
  }
}

interface DiskOpenOptions {
  verifyAtEnd: boolean;
  signal?: AbortSignal | undefined;
  reopen?: (() => Promise<PackageDisk>) | undefined;
}

/** Disk `index` (1-based) of an open package: skips to its member and opens its VMDK stream. */
export async function openPackageDisk(pkg: OvaPackage, index: number, opts: DiskOpenOptions): Promise<PackageDisk> {
  const env = pkg.envelope;
  checkDiskIndex(env, index, pkg.name);
  const disk = env.disks[index - 1]!;
  const file = fileOfDisk(env, index);
  let inner: DiskSource;
  let seekable: VmdkDisk | undefined;
  if (!file) {
    inner = blankDisk(disk.capacityBytes, `${pkg.name}:${disk.diskId}`);
  } else {
    if (disk.format !== undefined && !/vmdk/i.test(disk.format)) {
      throw vmxError(OVA.UNSUPPORTED_DISK_FORMAT, `disk ${index} ("${disk.diskId}") has ovf:format "${disk.format}"; only stream-optimized VMDK disks can be read from an OVA`, { file: pkg.name });
    }
    let member: TarEntry | undefined;
    const tap = { name: pkg.name, seek: async (n: string, what: string) => (member = await pkg.seek(n, what)), nextIf: (n: string) => pkg.nextIf(n) };
    const stream = await openOvfFile(tap, file, `disk ${index} ("${disk.diskId}") file`);
    inner = await vmdkStreamReader.open(stream, { name: `${pkg.name}:${file.href}`, signal: opts.signal });
    if (pkg.path !== undefined && member && file.chunkSize === undefined && file.compression === undefined) {
      seekable = await seekableMember(pkg.path, member, inner.info.warnings, opts.signal);
    }
  }
  const info = packageDiskInfo('ova', pkg.name, pkg.descriptorName, env, index, inner);
  info.details!['manifest'] = pkg.verdict();
  return new PackageDisk(inner, info, {
    finish: opts.verifyAtEnd ? () => pkg.finish() : undefined,
    reopen: opts.reopen,
    close: () => pkg.close(),
    seekable,
  });
}

/**
 * The disk member of an OVA file opened a second time as a sparse VMDK in its byte window of the
 * archive (DSP0243 §5.3: a ustar archive, so the body is stored as is), for random access.
 */
async function seekableMember(path: string, member: TarEntry, warnings: string[], signal: AbortSignal | undefined): Promise<VmdkDisk | undefined> {
  const size = (await stat(path)).size;
  if (member.dataOffset + member.size > size) {
    throw vmxError(OVA.TAR_TRUNCATED, `the archive ends ${member.dataOffset + member.size - size} bytes before the end of member "${member.name}" (${member.size} bytes from byte ${member.dataOffset})`, { file: path, offset: size });
  }
  const window = await RandomAccessFile.openWindow(path, member.dataOffset, member.size);
  try {
    return (await openBinaryVmdk(window, signal)).disk;
  } catch (err) {
    // The stream reader, which the transfer uses, accepted the member; only inspection loses speed.
    await window.close();
    if (signal?.aborted) throw err;
    warnings.push(`member "${member.name}" cannot be read through its grain directory (${(err as Error).message}); guest inspection reads it in order`);
    return undefined;
  }
}

/** DiskInfo of one disk of a package: the disk reader's facts under the package's summary. */
export function packageDiskInfo(format: 'ova' | 'ovf', name: string, descriptor: string, env: OvfEnvelope, index: number, inner: DiskSource): DiskInfo {
  const disk = env.disks[index - 1]!;
  const warnings = [...inner.info.warnings];
  if (inner.virtualSize !== disk.capacityBytes) {
    warnings.push(`disk ${index} ("${disk.diskId}"): the OVF says a capacity of ${disk.capacityBytes} bytes, the disk image ${inner.virtualSize}; the image's size is used`);
  }
  return {
    format,
    subformat: inner.info.subformat ? `${inner.info.format} ${inner.info.subformat}` : inner.info.format,
    virtualSize: inner.virtualSize,
    ...(inner.info.allocatedBytes !== undefined ? { allocatedBytes: inner.info.allocatedBytes } : {}),
    files: [name, ...inner.info.files.filter((f) => f !== name)],
    warnings,
    details: {
      disk: `${index} of ${env.disks.length} ("${disk.diskId}")`,
      ovfVersion: env.ovfVersion,
      descriptor,
      hardware: hardwareSummary(env),
      networks: env.networks,
      disks: diskSummaries(env),
      image: inner.info.details ?? {},
    },
  };
}

/**
 * ustar magic at byte 257 ("ustar\0" POSIX or "ustar " GNU) and a first regular member named *.ovf,
 * looking past pax ('x', 'g') and GNU long-name ('L') headers, whose bodies may hold that name.
 */
function probeOva(input: ProbeInput): boolean {
  const head = input.head;
  let longName: string | undefined;
  for (let at = 0; at + 512 <= head.length; ) {
    if (head.toString('latin1', at + 257, at + 262) !== 'ustar') return false;
    const flag = String.fromCharCode(head[at + 156]!);
    const size = parseInt(head.toString('latin1', at + 124, at + 136).replace(/[\0 ]+$/, '') || '0', 8);
    if (flag === 'x' || flag === 'g' || flag === 'L') {
      const body = head.toString('utf8', at + 512, Math.min(head.length, at + 512 + size));
      longName = flag === 'L' ? body.replace(/\0.*$/s, '') : (/(?:^|\n)\d+ path=([^\n]*)\n/.exec(body)?.[1] ?? longName);
      at += 512 + Math.ceil(size / 512) * 512;
      continue;
    }
    const name = longName ?? head.toString('utf8', at, at + 100).replace(/\0.*$/s, '');
    return name.toLowerCase().endsWith('.ovf');
  }
  return false;
}

export const ovaReader: FormatReader = {
  name: 'ova',
  probe: probeOva,
  async open(path: string, opts: OpenOptions): Promise<DiskSource> {
    const open = async (): Promise<PackageDisk> => {
      const pkg = await OvaPackage.open(path, { signal: opts.signal });
      try {
        return await openPackageDisk(pkg, opts.disk ?? 1, { verifyAtEnd: true, signal: opts.signal, reopen: open });
      } catch (err) {
        await pkg.close();
        throw err;
      }
    };
    return open();
  },
};
