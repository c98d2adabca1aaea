import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';
import type { Volume } from './volume-probe.js';
import type { GuestFiles } from './guest-files.js';

/*
 * A read-only FAT12/16/32 reader for the EFI system partition, after Microsoft's "FAT32 File System
 * Specification" (BPB §3, FAT type determination §3.5, cluster chains §4, directory entries §6,
 * long names §7). Names compare case-insensitively, as FAT does. Written here because the ESP needs
 * only directory walks and small files, and no maintained npm FAT reader takes a byte-range reader.
 */

interface Entry {
  name: string;
  dir: boolean;
  cluster: number;
  size: number;
}

export class FatReader implements GuestFiles {
  private readonly fatCache = new Map<number, Buffer>();

  private constructor(
    private readonly v: Volume,
    private readonly bps: number,
    private readonly clusterBytes: number,
    private readonly fatStart: number,
    private readonly rootStart: number,
    private readonly rootBytes: number,
    private readonly dataStart: number,
    private readonly clusters: number,
    private readonly bits: 12 | 16 | 32,
    private readonly rootCluster: number,
  ) {}

  static async open(v: Volume): Promise<FatReader> {
    const b = await v.read(0, 512);
    const bps = b.readUInt16LE(11);
    const spc = b[13]!;
    const reserved = b.readUInt16LE(14);
    const fats = b[16]!;
    const rootEnt = b.readUInt16LE(17);
    const fatSz = b.readUInt16LE(22) || b.readUInt32LE(36);
    const total = b.readUInt16LE(19) || b.readUInt32LE(32);
    if (![512, 1024, 2048, 4096].includes(bps) || spc === 0 || (spc & (spc - 1)) !== 0 || reserved === 0 || fats === 0 || fatSz === 0) {
      throw vmxError(GUEST.FILESYSTEM, `FAT BPB is invalid (bytes per sector ${bps}, sectors per cluster ${spc}, reserved ${reserved}, FATs ${fats}, FAT size ${fatSz})`, { file: v.disk.name, offset: v.offset + 11 });
    }
    const rootSectors = Math.ceil((rootEnt * 32) / bps);
    const dataSector = reserved + fats * fatSz + rootSectors;
    const clusters = Math.floor((total - dataSector) / spc);
    const bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
    return new FatReader(v, bps, spc * bps, reserved * bps, (reserved + fats * fatSz) * bps, rootSectors * bps, dataSector * bps, clusters, bits, bits === 32 ? b.readUInt32LE(44) : 0);
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const e = await this.lookup(path);
    if (!e || e.dir) return undefined;
    return this.chain(e.cluster, Math.min(e.size, maxBytes));
  }

  async list(path: string): Promise<string[] | undefined> {
    const e = await this.lookup(path);
    if (!e || !e.dir) return undefined;
    return (await this.dir(e)).map((x) => x.name).filter((n) => n !== '.' && n !== '..');
  }

  async isDirectory(path: string): Promise<boolean> {
    return (await this.lookup(path))?.dir === true;
  }

  private async lookup(path: string): Promise<Entry | undefined> {
    let cur: Entry = { name: '/', dir: true, cluster: this.rootCluster, size: 0 };
    for (const part of path.split('/').filter(Boolean)) {
      if (!cur.dir) return undefined;
      const next: Entry | undefined = (await this.dir(cur)).find((x) => x.name.toUpperCase() === part.toUpperCase());
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  private async dir(e: Entry): Promise<Entry[]> {
    const raw = e.cluster === 0 && this.bits !== 32 ? await this.v.read(this.rootStart, this.rootBytes) : await this.chain(e.cluster, Infinity);
    const out: Entry[] = [];
    let lfn: string[] = [];
    for (let p = 0; p + 32 <= raw.length; p += 32) {
      const first = raw[p]!;
      if (first === 0) break;
      const attr = raw[p + 11]!;
      if (first === 0xe5) {
        lfn = [];
        continue;
      }
      if (attr === 0x0f) {
        const part = Buffer.concat([raw.subarray(p + 1, p + 11), raw.subarray(p + 14, p + 26), raw.subarray(p + 28, p + 32)]).toString('utf16le');
        lfn.unshift(part.replace(/\0[\s\S]*$/, ''));
        continue;
      }
      if (attr & 0x08) {
        lfn = [];
        continue;
      }
      const base = raw.toString('latin1', p, p + 8).trimEnd();
      const ext = raw.toString('latin1', p + 8, p + 11).trimEnd();
      const name = lfn.length ? lfn.join('') : ext ? `${base}.${ext}` : base;
      lfn = [];
      out.push({ name, dir: (attr & 0x10) !== 0, cluster: (this.bits === 32 ? raw.readUInt16LE(p + 20) * 65536 : 0) + raw.readUInt16LE(p + 26), size: raw.readUInt32LE(p + 28) });
    }
    return out;
  }

  /** Follows a cluster chain, reading at most `length` bytes; a chain longer than the cluster count is a loop. */
  private async chain(start: number, length: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    const seen = new Set<number>();
    for (let c = start; c >= 2 && c < this.endMark() && got < length; c = await this.next(c)) {
      if (c - 2 >= this.clusters || seen.has(c)) {
        throw vmxError(GUEST.FILESYSTEM, `FAT cluster chain from ${start} reaches cluster ${c} (${seen.has(c) ? 'a loop' : 'past the last cluster'})`, { file: this.v.disk.name, offset: this.v.offset + this.fatStart });
      }
      seen.add(c);
      const n = Math.min(this.clusterBytes, length - got);
      parts.push(await this.v.read(this.dataStart + (c - 2) * this.clusterBytes, n));
      got += n;
    }
    return Buffer.concat(parts);
  }

  private endMark(): number {
    return this.bits === 12 ? 0xff8 : this.bits === 16 ? 0xfff8 : 0x0ffffff8;
  }

  private async next(c: number): Promise<number> {
    const byte = this.bits === 12 ? c + (c >> 1) : (c * this.bits) / 8;
    const sector = Math.floor(byte / this.bps);
    let s = this.fatCache.get(sector);
    if (!s) {
      s = await this.v.read(this.fatStart + sector * this.bps, this.bps * 2);
      if (this.fatCache.size >= 256) this.fatCache.clear();
      this.fatCache.set(sector, s);
    }
    const at = byte - sector * this.bps;
    if (this.bits === 12) {
      const w = s.readUInt16LE(at);
      return c & 1 ? w >> 4 : w & 0xfff;
    }
    return this.bits === 16 ? s.readUInt16LE(at) : s.readUInt32LE(at) & 0x0fffffff;
  }
}
