import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { CORE } from '../../core/error-codes.js';
import { isVmxferError, vmxError } from '../../core/errors.js';
import { OVA } from './error-codes.js';
import { verdictWarnings, type ManifestVerdict } from './manifest/manifest-ledger.js';

export interface PackageDiskHooks {
  /** Reads the rest of the package and verifies the manifest; undefined when another disk follows. */
  finish?: (() => Promise<ManifestVerdict>) | undefined;
  /** A fresh pass over a package read from a file (sources are iterated again by some writers). */
  reopen?: (() => Promise<PackageDisk>) | undefined;
  close: () => Promise<void>;
  /**
   * Random access to the disk without the tar stream: set for a member of an OVA file stored whole
   * (neither chunked nor gzipped), read through the VMDK's grain tables in its byte window.
   */
  seekable?: { readAt(offset: number, buf: Buffer): Promise<void>; close(): Promise<void> } | undefined;
}

/**
 * One disk of an OVF package (OVA member or file beside a .ovf). Its extents come from the disk
 * reader; the package is verified before the last extent is followed by the end of iteration, so a
 * consumer never sees success for bytes the manifest condemns.
 */
export class PackageDisk implements DiskSource {
  private used = false;

  constructor(
    private readonly inner: DiskSource,
    readonly info: DiskInfo,
    private readonly hooks: PackageDiskHooks,
  ) {
    const seekable = hooks.seekable;
    if (seekable) this.readAt = (offset, buf) => seekable.readAt(offset, buf);
  }

  get virtualSize(): number {
    return this.inner.virtualSize;
  }

  extents(opts: ExtentReadOptions = {}): AsyncIterable<Extent> {
    if (!this.used) {
      this.used = true;
      return this.firstPass(opts);
    }
    if (!this.hooks.reopen) throw vmxError(OVA.STREAM_CONSUMED, 'a disk read from a one-pass OVA stream can be iterated only once', { file: this.info.files[0] });
    return this.againFromFile(this.hooks.reopen, opts);
  }

  /** For inspect: reads the rest of the package (no decompression) and records the manifest verdict. */
  async verifyPackage(): Promise<void> {
    if (this.used || !this.hooks.finish) return;
    this.used = true;
    this.record(await this.hooks.finish().catch(unwrap));
  }

  /** Present only where the package gives one (hooks.seekable); the guest inspector probes for it. */
  readonly readAt?: (offset: number, buf: Buffer) => Promise<void>;

  close(): Promise<void> {
    return Promise.all([this.release(), this.hooks.close()]).then(() => undefined);
  }

  /** Closes what this disk alone holds (its reader, its window on the archive), not the package the next disk is read from. */
  release(): Promise<void> {
    return Promise.all([this.inner.close(), this.hooks.seekable?.close()]).then(() => undefined);
  }

  private async *firstPass(opts: ExtentReadOptions): AsyncGenerator<Extent> {
    try {
      yield* this.inner.extents(opts);
      if (this.hooks.finish) this.record(await this.hooks.finish());
    } catch (err) {
      unwrap(err);
    }
  }

  private async *againFromFile(reopen: () => Promise<PackageDisk>, opts: ExtentReadOptions): AsyncGenerator<Extent> {
    const fresh = await reopen();
    try {
      yield* fresh.extents(opts);
    } finally {
      await fresh.close();
    }
  }

  private record(verdict: ManifestVerdict): void {
    (this.info.details ??= {})['manifest'] = verdict;
    this.info.warnings.push(...verdictWarnings(verdict));
  }
}

/**
 * The disk readers wrap stream failures as VMX_IO ("reading the stream failed"); when the cause is
 * the archive's own typed error (a truncated tar, a manifest mismatch) that error is what counts.
 */
function unwrap(err: unknown): never {
  if (isVmxferError(err) && err.code === CORE.IO.code && isVmxferError(err.cause)) throw err.cause;
  throw err;
}

export function isPackageDisk(d: DiskSource): d is PackageDisk {
  return d instanceof PackageDisk;
}
