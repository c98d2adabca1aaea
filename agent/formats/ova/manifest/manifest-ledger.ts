import { createHash, type Hash } from 'node:crypto';
import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';
import type { MemberTap } from '../tar/tar-reader.js';
import type { DigestAlgorithm, ManifestEntry } from './manifest-file.js';

export interface ManifestVerdict {
  /** verified: every listed file present matched; absent: no manifest; pending: not all read yet. */
  status: 'verified' | 'absent' | 'pending';
  manifest: string | undefined;
  algorithms: DigestAlgorithm[];
  verified: string[];
  /** Files in the package the manifest does not list (a warning, not an error). */
  unlisted: string[];
  /** Files the manifest lists that the package does not have (a warning). */
  missing: string[];
}

/** Before the manifest is seen, every member is hashed with each algorithm a manifest may use. */
const ALL: DigestAlgorithm[] = ['sha1', 'sha256', 'sha512'];

/**
 * Verifies members against the manifest while they stream. A manifest read before a member fixes
 * the one algorithm to compute and the member is checked as its last byte passes; members read
 * before the manifest (VMware also writes it last) keep their digests until it arrives. Either way
 * a mismatch is an error naming the file, raised before the package is declared read.
 */
export class ManifestLedger {
  private entries: Map<string, ManifestEntry> | undefined;
  private manifestName: string | undefined;
  private readonly early = new Map<string, Map<DigestAlgorithm, string>>();
  private readonly verified: string[] = [];
  private readonly unlisted: string[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly archive: string) {}

  get hasManifest(): boolean {
    return this.entries !== undefined;
  }

  /** A tap for a member's body; the manifest's own bytes and a signature (.cert) are not listed. */
  tapFor(name: string): MemberTap | undefined {
    this.seen.add(name);
    if (isManifestName(name) || name.toLowerCase().endsWith('.cert')) return undefined;
    const entry = this.entries?.get(name);
    if (this.entries && !entry) {
      this.unlisted.push(name);
      return undefined;
    }
    const algorithms = entry ? [entry.algorithm] : ALL;
    const hashes = algorithms.map((a) => [a, createHash(a)] as [DigestAlgorithm, Hash]);
    return {
      update: (chunk) => hashes.forEach(([, h]) => h.update(chunk)),
      end: () => this.done(name, new Map(hashes.map(([a, h]) => [a, h.digest('hex')]))),
    };
  }

  /** The manifest arrived: check everything hashed so far. */
  setManifest(name: string, entries: ManifestEntry[]): void {
    this.manifestName = name;
    this.entries = new Map(entries.map((e) => [e.file, e]));
    for (const [file, digests] of this.early) {
      const entry = this.entries.get(file);
      if (!entry) this.unlisted.push(file);
      else this.check(entry, digests.get(entry.algorithm)!);
    }
    this.early.clear();
  }

  verdict(complete: boolean): ManifestVerdict {
    const entries = [...(this.entries?.values() ?? [])];
    return {
      status: !this.entries ? (complete ? 'absent' : 'pending') : complete ? 'verified' : 'pending',
      manifest: this.manifestName,
      algorithms: [...new Set(entries.map((e) => e.algorithm))],
      verified: [...this.verified],
      unlisted: [...this.unlisted],
      missing: complete ? entries.filter((e) => !this.seen.has(e.file)).map((e) => e.file) : [],
    };
  }

  private done(name: string, digests: Map<DigestAlgorithm, string>): void {
    const entry = this.entries?.get(name);
    if (entry) this.check(entry, digests.get(entry.algorithm)!);
    else this.early.set(name, digests);
  }

  private check(entry: ManifestEntry, actual: string): void {
    if (actual !== entry.digest) {
      throw vmxError(OVA.MANIFEST_MISMATCH, `${entry.algorithm.toUpperCase()} of "${entry.file}" is ${actual}, but manifest ${this.manifestName} says ${entry.digest}`, { file: this.archive });
    }
    this.verified.push(entry.file);
  }
}

export function isManifestName(name: string): boolean {
  return name.toLowerCase().endsWith('.mf');
}

/** Warnings a verdict implies, for DiskInfo.warnings. */
export function verdictWarnings(v: ManifestVerdict): string[] {
  const w: string[] = [];
  if (v.status === 'absent') w.push('the package has no manifest (.mf): file integrity was not verified');
  for (const f of v.unlisted) w.push(`"${f}" is not listed in manifest ${v.manifest}: its integrity was not verified`);
  for (const f of v.missing) w.push(`manifest ${v.manifest} lists "${f}", which the package does not contain`);
  return w;
}
