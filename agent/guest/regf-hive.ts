import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';

/*
 * A read-only Windows registry hive reader for the few values the guest facts need, after Joachim
 * Metz's "Windows NT Registry File (REGF) format specification" (libregf documentation): the base
 * block ("regf", root key cell offset at 36, hive bins data size at 40, XOR-32 checksum of the first
 * 508 bytes at 508, §2), hive bins of cells (a negative 32-bit size marks an allocated cell, offsets
 * relative to the first bin at 4096, §3-4), named keys "nk" (§4.2), sub key lists "lf", "lh", "li",
 * "ri" (§4.3-4.6), value keys "vk" (§4.8). The hive is read by range through `read`, never whole.
 * Written here because no maintained JavaScript regf reader reads by range.
 */

const BINS = 4096;
const MAX_CELL = 1024 * 1024;
const MAX_SUBKEYS = 65536;
const MAX_VALUES = 65536;
const KEY_COMP_NAME = 0x20;
const VALUE_COMP_NAME = 0x1;

export type HiveRead = (offset: number, length: number) => Promise<Buffer>;

export interface HiveValue {
  type: number;
  data: Buffer;
}

export class RegistryHive {
  private constructor(private readonly read: HiveRead, private readonly name: string, private readonly binsSize: number, private readonly root: number) {}

  static async open(read: HiveRead, size: number, name: string): Promise<RegistryHive> {
    const h = await read(0, 512);
    const fail = (s: string, o: number) => {
      throw vmxError(GUEST.FILESYSTEM, s, { file: name, offset: o });
    };
    if (h.toString('latin1', 0, 4) !== 'regf') fail('registry hive has no "regf" signature', 0);
    let xor = 0;
    for (let i = 0; i < 508; i += 4) xor ^= h.readUInt32LE(i);
    if (xor >>> 0 !== h.readUInt32LE(508)) fail(`registry hive base block checksum 0x${h.readUInt32LE(508).toString(16)} does not match its XOR 0x${(xor >>> 0).toString(16)}`, 508);
    const binsSize = h.readUInt32LE(40);
    if (binsSize === 0 || BINS + binsSize > size) fail(`registry hive says its bins hold ${binsSize} bytes, past the file's ${size}`, 40);
    return new RegistryHive(read, name, binsSize, h.readUInt32LE(36));
  }

  /** The value `value` of key `path` (components separated by "\", compared case-insensitively); undefined when absent. */
  async value(path: string, value: string): Promise<HiveValue | undefined> {
    let key = await this.nk(this.root);
    for (const part of path.split('\\').filter(Boolean)) {
      const sub = await this.subkey(key, part.toUpperCase());
      if (sub === undefined) return undefined;
      key = await this.nk(sub);
    }
    return this.findValue(key, value.toUpperCase());
  }

  async string(path: string, value: string): Promise<string | undefined> {
    const v = await this.value(path, value);
    return v && (v.type === 1 || v.type === 2) ? v.data.toString('utf16le').replace(/\0.*$/s, '') : undefined;
  }

  async dword(path: string, value: string): Promise<number | undefined> {
    const v = await this.value(path, value);
    return v && v.type === 4 && v.data.length >= 4 ? v.data.readUInt32LE(0) : undefined;
  }

  private fail(sentence: string, cell: number): never {
    throw vmxError(GUEST.FILESYSTEM, `registry hive: ${sentence}`, { file: this.name, offset: BINS + cell });
  }

  /** A cell's data (after its 4-byte size), checked to be allocated and inside the bins. */
  private async cell(off: number, what: string): Promise<Buffer> {
    if (off < 0 || off + 4 > this.binsSize) this.fail(`${what} cell offset ${off} is outside the hive bins`, off);
    const size = -(await this.read(BINS + off, 4)).readInt32LE(0);
    if (size < 8 || size > MAX_CELL || off + size > this.binsSize) this.fail(`${what} cell at ${off} has size ${-size}`, off);
    return this.read(BINS + off + 4, size - 4);
  }

  private async nk(off: number): Promise<Buffer> {
    const b = await this.cell(off, 'key');
    if (b.length < 76 || b.toString('latin1', 0, 2) !== 'nk' || 76 + b.readUInt16LE(72) > b.length) this.fail('a key cell is not an "nk" record that holds its name', off);
    return b;
  }

  private keyName(nk: Buffer): string {
    const len = nk.readUInt16LE(72);
    return nk.readUInt16LE(2) & KEY_COMP_NAME ? nk.toString('latin1', 76, 76 + len) : nk.toString('utf16le', 76, 76 + len);
  }

  /** nk: sub key count 20, sub key list offset 28. */
  private async subkey(nk: Buffer, want: string): Promise<number | undefined> {
    const count = nk.readUInt32LE(20);
    if (count === 0) return undefined;
    if (count > MAX_SUBKEYS) this.fail(`a key claims ${count} sub keys`, nk.readUInt32LE(28));
    for (const off of await this.list(nk.readUInt32LE(28), 0)) {
      if (this.keyName(await this.nk(off)).toUpperCase() === want) return off;
    }
    return undefined;
  }

  /** lf / lh: count, then (offset, hint) pairs; li: count, then offsets; ri: count, then offsets of lists (one level). */
  private async list(off: number, depth: number): Promise<number[]> {
    const b = await this.cell(off, 'sub key list');
    const sig = b.toString('latin1', 0, 2);
    const n = b.readUInt16LE(2);
    const stride = sig === 'lf' || sig === 'lh' ? 8 : sig === 'li' || sig === 'ri' ? 4 : 0;
    if (!stride || 4 + n * stride > b.length) this.fail(`sub key list "${sig}" of ${n} entries does not fit its cell`, off);
    const offs = Array.from({ length: n }, (_, i) => b.readUInt32LE(4 + i * stride));
    if (sig !== 'ri') return offs;
    if (depth > 0) this.fail('an "ri" list points to another "ri" list', off);
    const out: number[] = [];
    for (const o of offs) out.push(...(await this.list(o, depth + 1)));
    return out;
  }

  /** nk: value count 36, value list offset 40; vk: name length 2, data size 4 (top bit: data in the offset field), data offset 8, type 12, flags 16, name 20. */
  private async findValue(nk: Buffer, want: string): Promise<HiveValue | undefined> {
    const count = nk.readUInt32LE(36);
    if (count === 0) return undefined;
    if (count > MAX_VALUES) this.fail(`a key claims ${count} values`, nk.readUInt32LE(40));
    const listOff = nk.readUInt32LE(40);
    const list = await this.cell(listOff, 'value list');
    if (count * 4 > list.length) this.fail(`value list of ${count} entries does not fit its cell`, listOff);
    for (let i = 0; i < count; i++) {
      const off = list.readUInt32LE(i * 4);
      const vk = await this.cell(off, 'value');
      if (vk.length < 20 || vk.toString('latin1', 0, 2) !== 'vk' || 20 + vk.readUInt16LE(2) > vk.length) this.fail('a value cell is not a "vk" record that holds its name', off);
      const len = vk.readUInt16LE(2);
      const name = vk.readUInt16LE(16) & VALUE_COMP_NAME ? vk.toString('latin1', 20, 20 + len) : vk.toString('utf16le', 20, 20 + len);
      if (name.toUpperCase() !== want) continue;
      const raw = vk.readUInt32LE(4);
      const size = raw & 0x7fffffff;
      if (raw & 0x80000000) return { type: vk.readUInt32LE(12), data: vk.subarray(8, 8 + Math.min(size, 4)) };
      const data = await this.cell(vk.readUInt32LE(8), 'value data');
      // Data over 16344 bytes lives in a "db" big-data record (§4.9); no value read here is that large.
      if (size > data.length) this.fail(`value "${name}" says ${size} bytes, its data cell holds ${data.length}`, vk.readUInt32LE(8));
      return { type: vk.readUInt32LE(12), data: data.subarray(0, size) };
    }
    return undefined;
  }
}
