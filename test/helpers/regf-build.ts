/*
 * Builds a minimal valid Windows registry hive (regf) from Joachim Metz's "Windows NT Registry File
 * (REGF) format specification": a 4096-byte base block with its XOR-32 checksum, one hive bin of
 * allocated cells ("nk" keys with "lf" sub key lists, value lists, "vk" values, data cells) and a
 * free cell filling the rest of the bin. hivexget (libhivex) reads what it writes.
 */

export interface HiveKey {
  name: string;
  values?: { name: string; type: 'sz' | 'dword'; data: string | number }[];
  subkeys?: HiveKey[];
}

const REG_SZ = 1;
const REG_DWORD = 4;

class Cells {
  private readonly parts: Buffer[] = [];
  size = 0;

  /** Appends a cell holding `data` (its size negative: allocated), 8-byte aligned; returns its offset in the bins. */
  add(data: Buffer): number {
    const [at, view] = this.reserve(data.length);
    data.copy(view);
    return at;
  }

  /** A cell of `length` data bytes whose data is written later through the returned view. */
  reserve(length: number): [number, Buffer] {
    const at = this.size;
    const len = Math.ceil((length + 4) / 8) * 8;
    const c = Buffer.alloc(len);
    c.writeInt32LE(-len, 0);
    this.parts.push(c);
    this.size += len;
    return [at, c.subarray(4, 4 + length)];
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function addKey(cells: Cells, key: HiveKey, parent: number, root: boolean): number {
  const nameBytes = Buffer.from(key.name, 'latin1');
  const [at, nk] = cells.reserve(76 + nameBytes.length);
  nk.write('nk', 0, 'latin1');
  nk.writeUInt16LE(0x20 | (root ? 0x04 : 0), 2);
  nk.writeUInt32LE(parent, 16);
  nk.writeUInt32LE(0xffffffff, 28);
  nk.writeUInt32LE(0xffffffff, 32);
  nk.writeUInt32LE(0xffffffff, 40);
  nk.writeUInt32LE(0xffffffff, 44);
  nk.writeUInt32LE(0xffffffff, 48);
  nk.writeUInt16LE(nameBytes.length, 72);
  nameBytes.copy(nk, 76);
  const subs = (key.subkeys ?? []).slice().sort((a, b) => (a.name.toUpperCase() < b.name.toUpperCase() ? -1 : 1)).map((k) => ({ k, off: addKey(cells, k, at, false) }));
  if (subs.length) {
    const lf = Buffer.alloc(4 + subs.length * 8);
    lf.write('lf', 0, 'latin1');
    lf.writeUInt16LE(subs.length, 2);
    subs.forEach((s, i) => {
      lf.writeUInt32LE(s.off, 4 + i * 8);
      Buffer.from(s.k.name.padEnd(4, '\0').slice(0, 4), 'latin1').copy(lf, 8 + i * 8);
    });
    nk.writeUInt32LE(subs.length, 20);
    nk.writeUInt32LE(cells.add(lf), 28);
  }
  const values = key.values ?? [];
  if (values.length) {
    const offs = values.map((v) => {
      const name = Buffer.from(v.name, 'latin1');
      const vk = Buffer.alloc(20 + name.length);
      vk.write('vk', 0, 'latin1');
      vk.writeUInt16LE(name.length, 2);
      vk.writeUInt16LE(1, 16);
      name.copy(vk, 20);
      if (v.type === 'dword') {
        vk.writeUInt32LE(0x80000004, 4);
        vk.writeUInt32LE(Number(v.data), 8);
        vk.writeUInt32LE(REG_DWORD, 12);
      } else {
        const data = Buffer.from(`${v.data}\0`, 'utf16le');
        vk.writeUInt32LE(data.length, 4);
        vk.writeUInt32LE(cells.add(data), 8);
        vk.writeUInt32LE(REG_SZ, 12);
      }
      return cells.add(vk);
    });
    const list = Buffer.alloc(offs.length * 4);
    offs.forEach((o, i) => list.writeUInt32LE(o, i * 4));
    nk.writeUInt32LE(values.length, 36);
    nk.writeUInt32LE(cells.add(list), 40);
  }
  return at;
}

/** The hive file: base block, then one bin ("hbin", its offset and size) holding the key tree from `root`. */
export function buildHive(root: HiveKey): Buffer {
  const cells = new Cells();
  // The first cell starts after the 32-byte bin header: offsets count from the bin's start.
  cells.size = 32;
  const rootOff = addKey(cells, root, 0, true);
  const body = cells.bytes();
  const binSize = Math.ceil((32 + body.length + 8) / 4096) * 4096;
  const bin = Buffer.alloc(binSize);
  bin.write('hbin', 0, 'latin1');
  bin.writeUInt32LE(0, 4);
  bin.writeUInt32LE(binSize, 8);
  body.copy(bin, 32);
  bin.writeInt32LE(binSize - 32 - body.length, 32 + body.length);
  const base = Buffer.alloc(4096);
  base.write('regf', 0, 'latin1');
  base.writeUInt32LE(1, 4);
  base.writeUInt32LE(1, 8);
  base.writeUInt32LE(1, 20);
  base.writeUInt32LE(5, 24);
  base.writeUInt32LE(1, 32);
  base.writeUInt32LE(rootOff, 36);
  base.writeUInt32LE(binSize, 40);
  base.writeUInt32LE(1, 44);
  let xor = 0;
  for (let i = 0; i < 508; i += 4) xor ^= base.readUInt32LE(i);
  base.writeUInt32LE(xor >>> 0, 508);
  return Buffer.concat([base, bin]);
}

/** HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion as Windows keeps it (the values the inspector reads). */
export function softwareHive(v: { productName: string; currentBuild: string; editionId: string; installationType: string; displayVersion?: string; major?: number; minor?: number; currentVersion?: string }): Buffer {
  const values: NonNullable<HiveKey['values']> = [
    { name: 'ProductName', type: 'sz', data: v.productName },
    { name: 'CurrentBuild', type: 'sz', data: v.currentBuild },
    { name: 'CurrentBuildNumber', type: 'sz', data: v.currentBuild },
    { name: 'EditionID', type: 'sz', data: v.editionId },
    { name: 'InstallationType', type: 'sz', data: v.installationType },
    { name: 'CurrentVersion', type: 'sz', data: v.currentVersion ?? '6.3' },
    ...(v.displayVersion ? [{ name: 'DisplayVersion', type: 'sz' as const, data: v.displayVersion }] : []),
    ...(v.major !== undefined ? [{ name: 'CurrentMajorVersionNumber', type: 'dword' as const, data: v.major }, { name: 'CurrentMinorVersionNumber', type: 'dword' as const, data: v.minor ?? 0 }] : []),
  ];
  return buildHive({
    name: 'ROOT',
    subkeys: [
      { name: 'Classes' },
      { name: 'Microsoft', subkeys: [{ name: 'Windows', subkeys: [{ name: 'CurrentVersion' }] }, { name: 'Windows NT', subkeys: [{ name: 'CurrentVersion', values }] }] },
      { name: 'Policies' },
    ],
  });
}
