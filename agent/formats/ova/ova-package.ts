import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { vmxError } from '../../core/errors.js';
import { fsError } from '../../io/random-access-file.js';
import { OVA } from './error-codes.js';
import { TarReader, type TarEntry } from './tar/tar-reader.js';
import { ManifestLedger, isManifestName, type ManifestVerdict } from './manifest/manifest-ledger.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest/manifest-file.js';
import { MAX_DESCRIPTOR_BYTES, parseEnvelope } from './ovf/ovf-envelope.js';
import type { OvfEnvelope } from './ovf/ovf-types.js';
import { readSmallMember } from './member-bytes.js';

export interface OvaOpenOptions {
  /** Name used in messages for a stream input. */
  name?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * An OVA read front to back (DSP0243 §5.3 "Distribution as a single file": a ustar archive whose
 * first member is the descriptor; the manifest follows it or, as VMware ovftool also writes,
 * comes last). Members are visited in archive order; every byte passes the manifest ledger, so
 * skipped members are verified too.
 */
export class OvaPackage {
  private constructor(
    readonly name: string,
    readonly envelope: OvfEnvelope,
    readonly descriptorName: string,
    private readonly tar: TarReader,
    private readonly ledger: ManifestLedger,
    /** Set when the input is a file, so a disk can be read again from a fresh pass. */
    readonly path: string | undefined,
  ) {}

  static async open(input: string | Readable, opts: OvaOpenOptions = {}): Promise<OvaPackage> {
    const name = typeof input === 'string' ? input : (opts.name ?? 'stream');
    const stream = typeof input === 'string' ? await openFileStream(input) : input;
    const ledger = new ManifestLedger(name);
    const tar = new TarReader(stream, name, { signal: opts.signal, onMember: (e) => ledger.tapFor(e.name) });
    try {
      const first = await tar.next();
      if (!first || !first.name.toLowerCase().endsWith('.ovf')) {
        throw vmxError(OVA.NOT_OVA, `the first member is ${first ? `"${first.name}"` : 'missing'}, not the OVF descriptor (.ovf) an OVA starts with`, { file: name, offset: first?.headerOffset ?? 0 });
      }
      const where = { file: name, offset: first.dataOffset };
      const bytes = await readSmallMember(first.body, first.size, MAX_DESCRIPTOR_BYTES, OVA.DESCRIPTOR_TOO_LARGE, where, `OVF descriptor "${first.name}"`);
      const envelope = parseEnvelope(bytes, `${name}:${first.name}`);
      return new OvaPackage(name, envelope, first.name, tar, ledger, typeof input === 'string' ? input : undefined);
    } catch (err) {
      await tar.close();
      throw err;
    }
  }

  /**
   * The member called `member`, skipping (and verifying) earlier ones and reading a manifest on the
   * way. Only forward: a member the archive already passed is reported missing.
   */
  async seek(member: string, what: string): Promise<TarEntry> {
    for (;;) {
      const e = await this.tar.peek();
      if (!e) throw vmxError(OVA.MISSING_FILE, `${what} "${member}" is not in the archive after the members already read`, { file: this.name });
      if (e.name === member) return (await this.tar.next())!;
      await this.tar.next();
      if (isManifestName(e.name) && !this.ledger.hasManifest) await this.readManifest(e);
    }
  }

  /** The next member if it is `member` (chunks of one file must be consecutive), else undefined. */
  async nextIf(member: string): Promise<TarEntry | undefined> {
    const e = await this.tar.peek();
    return e?.name === member ? (await this.tar.next())! : undefined;
  }

  /** Reads to the end-of-archive trailer; throws on a manifest mismatch or a truncated archive. */
  async finish(): Promise<ManifestVerdict> {
    for (let e = await this.tar.next(); e; e = await this.tar.next()) {
      if (isManifestName(e.name) && !this.ledger.hasManifest) await this.readManifest(e);
    }
    return this.ledger.verdict(true);
  }

  verdict(): ManifestVerdict {
    return this.ledger.verdict(false);
  }

  close(): Promise<void> {
    return this.tar.close();
  }

  private async readManifest(e: TarEntry): Promise<void> {
    const where = { file: this.name, offset: e.dataOffset };
    const bytes = await readSmallMember(e.body, e.size, MAX_MANIFEST_BYTES, OVA.BAD_MANIFEST, where, `manifest "${e.name}"`);
    this.ledger.setManifest(e.name, parseManifest(bytes, `${this.name}:${e.name}`));
  }
}

async function openFileStream(path: string): Promise<Readable> {
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(fsError(err, path)));
  });
  return stream;
}
