import { Readable } from 'node:stream';
import { throwIfAborted } from '../../../core/abort.js';
import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';
import { ByteSource } from './byte-source.js';
import { BLOCK, isZeroBlock, paddedSize, parseHeaderBlock, type TarHeaderBlock } from './tar-header.js';
import { MAX_PAX_BYTES, parsePaxRecords, paxSize } from './pax-records.js';
import { safeMemberName } from './tar-path.js';

/** A regular file in the archive. Its body is read through `body`, or skipped by the next `next()`. */
export interface TarEntry {
  readonly name: string;
  readonly size: number;
  /** Archive offset of the member's first header block (pax or GNU long-name headers included). */
  readonly headerOffset: number;
  /** Archive offset of the first body byte. */
  readonly dataOffset: number;
  /** The body with backpressure: archive bytes are pulled only as fast as the consumer reads. */
  readonly body: Readable;
}

/** Sees every body byte of a member, whether the consumer reads it or `next()` skips it. */
export interface MemberTap {
  update(chunk: Buffer): void;
  end(): void;
}

export interface TarReaderOptions {
  signal?: AbortSignal | undefined;
  onMember?: ((entry: TarEntry) => MemberTap | undefined) | undefined;
}

/** GNU long names and link names ('L', 'K') are read into memory: bounded like pax headers. */
const MAX_LONG_NAME = 64 * 1024;
const PULL_BYTES = 1024 * 1024;

interface Current {
  entry: TarEntry;
  remaining: number;
  tap: MemberTap | undefined;
  /** Set when `next()` skipped body bytes the consumer had not read: late reads then fail. */
  skipped: boolean;
}

/**
 * A streaming tar reader: no extraction, no buffering of bodies. Understands POSIX ustar, pax
 * extended ('x') and global ('g') headers, GNU long names ('L', 'K') and base-256 sizes; refuses
 * links, devices, FIFOs, GNU sparse members and unsafe names with typed errors.
 */
export class TarReader {
  private readonly bytes: ByteSource;
  private current: Current | undefined;
  private peeked: TarEntry | undefined;
  private inflight: Promise<unknown> = Promise.resolve();
  private globals = new Map<string, string>();
  private readonly seen = new Set<string>();
  private finished = false;

  constructor(stream: Readable, private readonly file: string, private readonly opts: TarReaderOptions = {}) {
    this.bytes = new ByteSource(stream, file);
  }

  /** The next regular file, after skipping what is left of the current one; undefined at the trailer. */
  async next(): Promise<TarEntry | undefined> {
    const e = await this.peek();
    this.peeked = undefined;
    return e;
  }

  /** The next regular file without moving past it (its body is not touched). */
  async peek(): Promise<TarEntry | undefined> {
    if (this.peeked || this.finished) return this.peeked;
    await this.finishCurrent();
    this.peeked = await this.readEntry();
    return this.peeked;
  }

  close(): Promise<void> {
    return this.bytes.close();
  }

  private async finishCurrent(): Promise<void> {
    await this.inflight.catch(() => undefined);
    const cur = this.current;
    if (!cur) return;
    if (cur.remaining > 0) cur.skipped = true;
    while (cur.remaining > 0) {
      throwIfAborted(this.opts.signal);
      await this.pull(cur, PULL_BYTES);
    }
    await this.skipPadding(cur.entry.size, cur.entry.dataOffset);
    this.current = undefined;
  }

  private async readEntry(): Promise<TarEntry | undefined> {
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let firstOffset: number | undefined;
    for (;;) {
      throwIfAborted(this.opts.signal);
      const header = await this.readHeader();
      if (!header) return undefined;
      firstOffset ??= header.offset;
      const t = header.typeflag;
      if (t === 'x' || t === 'g') {
        const records = parsePaxRecords(await this.readMeta(header, MAX_PAX_BYTES, 'pax extended header'), { file: this.file, offset: header.offset });
        if (t === 'g') this.globals = new Map([...this.globals, ...records]);
        else pax = new Map([...pax, ...records]);
        continue;
      }
      if (t === 'L' || t === 'K') {
        const text = (await this.readMeta(header, MAX_LONG_NAME, 'GNU long name')).toString('utf8');
        if (t === 'L') longName = text.replace(/\0.*$/s, '');
        continue;
      }
      const entry = this.member(header, new Map([...this.globals, ...pax]), longName, firstOffset);
      if (entry) return entry;
      pax = new Map();
      longName = undefined;
      firstOffset = undefined;
    }
  }

  /** The next header block; undefined after the two zero blocks that end an archive. */
  private async readHeader(): Promise<TarHeaderBlock | undefined> {
    const at = this.bytes.position;
    const block = await this.readBlock('a header block or the end-of-archive trailer');
    if (!isZeroBlock(block)) return parseHeaderBlock(block, at, this.file);
    const second = await this.readBlock('the second zero block of the end-of-archive trailer');
    if (!isZeroBlock(second)) {
      throw vmxError(OVA.TAR_BAD_HEADER, 'a lone zero block is followed by data; an archive ends with two zero blocks', { file: this.file, offset: at });
    }
    this.finished = true;
    return undefined;
  }

  private async readBlock(what: string): Promise<Buffer> {
    const at = this.bytes.position;
    const block = await this.bytes.readExact(BLOCK);
    if (block.length < BLOCK) throw vmxError(OVA.TAR_TRUNCATED, `the archive ends at byte ${at + block.length}, inside ${what}`, { file: this.file, offset: at });
    return block;
  }

  /** The body of a pax or GNU long-name header, bounded before it is read. */
  private async readMeta(header: TarHeaderBlock, limit: number, what: string): Promise<Buffer> {
    if (header.size > limit) {
      throw vmxError(what.startsWith('pax') ? OVA.TAR_BAD_PAX : OVA.TAR_BAD_HEADER, `${what} says ${header.size} bytes, over the ${limit}-byte limit`, { file: this.file, offset: header.offset + 124 });
    }
    const at = this.bytes.position;
    const body = await this.bytes.readExact(header.size);
    if (body.length < header.size) throw vmxError(OVA.TAR_TRUNCATED, `the archive ends inside the ${what} body`, { file: this.file, offset: at + body.length });
    await this.skipPadding(header.size, at);
    return body;
  }

  private async skipPadding(size: number, dataOffset: number): Promise<void> {
    const pad = paddedSize(size) - size;
    if (pad === 0) return;
    const got = await this.bytes.readExact(pad);
    if (got.length < pad) throw vmxError(OVA.TAR_TRUNCATED, `the archive ends in the padding after the body that starts at byte ${dataOffset}`, { file: this.file, offset: this.bytes.position });
  }

  /** Applies overrides and type rules; a regular file becomes the current entry, a directory is skipped. */
  private member(header: TarHeaderBlock, pax: Map<string, string>, longName: string | undefined, firstOffset: number): TarEntry | undefined {
    const where = { file: this.file, offset: header.offset };
    const name = safeMemberName(pax.get('path') ?? longName ?? header.name, where);
    checkType(header, pax, name, where);
    const size = paxSize(pax, where) ?? header.size;
    if (header.typeflag === '5') {
      this.startMember(name, size, firstOffset);
      return undefined;
    }
    if (this.seen.has(name)) throw vmxError(OVA.TAR_DUPLICATE_MEMBER, `member "${name}" appears a second time`, where);
    this.seen.add(name);
    const cur = this.startMember(name, size, firstOffset);
    cur.tap = this.opts.onMember?.(cur.entry);
    if (size === 0) cur.tap?.end();
    return cur.entry;
  }

  private startMember(name: string, size: number, headerOffset: number): Current {
    const cur: Current = { entry: undefined as unknown as TarEntry, remaining: size, tap: undefined, skipped: false };
    const body: Readable = new Readable({ highWaterMark: 256 * 1024, read: (n) => this.feed(cur, body, n) });
    cur.entry = { name, size, headerOffset, dataOffset: this.bytes.position, body };
    this.current = cur;
    return cur;
  }

  /** Readable.read(): one pull at a time (the stream does not call read() again until a push). */
  private feed(cur: Current, body: Readable, n: number): void {
    if (cur.skipped) {
      body.destroy(vmxError(OVA.STREAM_CONSUMED, `member "${cur.entry.name}" was read after the archive moved past it`, { file: this.file, offset: cur.entry.dataOffset }));
      return;
    }
    if (cur.remaining === 0) {
      body.push(null);
      return;
    }
    const p = this.pull(cur, Math.max(n, 64 * 1024));
    this.inflight = p;
    p.then(
      (buf) => {
        body.push(buf);
        if (cur.remaining === 0) body.push(null);
      },
      (err) => body.destroy(err),
    );
  }

  /** Up to `max` body bytes of the current member, shown to its tap; the archive must not end first. */
  private async pull(cur: Current, max: number): Promise<Buffer> {
    if (cur.remaining === 0) return Buffer.alloc(0);
    const buf = await this.bytes.readSome(Math.min(max, cur.remaining));
    if (buf.length === 0) {
      throw vmxError(OVA.TAR_TRUNCATED, `the archive ends ${cur.remaining} bytes before the end of member "${cur.entry.name}" (${cur.entry.size} bytes from byte ${cur.entry.dataOffset})`, {
        file: this.file,
        offset: this.bytes.position,
      });
    }
    cur.remaining -= buf.length;
    cur.tap?.update(buf);
    if (cur.remaining === 0) cur.tap?.end();
    return buf;
  }
}

/** Only regular files and directories belong in an OVA (ustar typeflag values; GNU 'S' sparse). */
function checkType(header: TarHeaderBlock, pax: Map<string, string>, name: string, where: { file: string; offset: number }): void {
  const t = header.typeflag;
  const what = `member "${name}"`;
  if (t === '1' || t === '2') throw vmxError(OVA.TAR_LINK, `${what} is a ${t === '1' ? 'hard' : 'symbolic'} link to "${header.linkname}"`, where);
  if (t === '3' || t === '4' || t === '6') {
    throw vmxError(OVA.TAR_SPECIAL_FILE, `${what} is a ${{ '3': 'character device', '4': 'block device', '6': 'FIFO' }[t]}`, where);
  }
  if (t === 'S' || [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
    throw vmxError(OVA.TAR_SPARSE_MEMBER, `${what} is a GNU sparse file; store OVA disks as plain members (tar without --sparse)`, where);
  }
  if (t !== '0' && t !== '\0' && t !== '7' && t !== '5') {
    throw vmxError(OVA.TAR_UNSUPPORTED_TYPE, `${what} has type flag ${JSON.stringify(t)}, not a regular file or directory`, where);
  }
}
