import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';
import type { Probe, Volume } from './volume-probe.js';

const VOLUME_RECORD = 3;
const ATTR_VOLUME_NAME = 0x60;
const ATTR_VOLUME_INFORMATION = 0x70;

/**
 * NTFS: boot sector OEM "NTFS    ", serial number at 0x48; the label and NTFS version are resident
 * attributes of MFT record 3 ($Volume). The first MFT records are contiguous from the MFT's start
 * cluster, so record 3 is read without the MFT's own runlist. Written here because no maintained
 * JavaScript NTFS reader exists; layout from the Linux-NTFS project's documentation (boot sector,
 * FILE record, update sequence array, attribute header).
 */
export const ntfs: Probe = async (v) => {
  const b = await v.read(0, 512);
  if (b.toString('latin1', 3, 11) !== 'NTFS    ') return undefined;
  const serial = b.readBigUInt64LE(0x48).toString(16).toUpperCase().padStart(16, '0');
  const volume = await volumeRecord(v, b);
  return { kind: 'ntfs', uuid: serial, label: volume.label, details: volume.version ? { ntfsVersion: volume.version } : undefined };
};

function geometry(v: Volume, b: Buffer): { cluster: number; record: number; mft: number } {
  const sector = b.readUInt16LE(0x0b);
  const spc = b[0x0d]!;
  const cluster = sector * (spc > 0x80 ? 2 ** (256 - spc) : spc);
  const cpr = b.readInt8(0x40);
  const record = cpr < 0 ? 2 ** -cpr : cpr * cluster;
  if (![512, 1024, 2048, 4096].includes(sector) || cluster === 0 || record < 512 || record > 65536) {
    throw vmxError(GUEST.FILESYSTEM, `NTFS boot sector has an impossible geometry (bytes per sector ${sector}, cluster ${cluster}, MFT record ${record})`, { file: v.disk.name, offset: v.offset + 0x0b });
  }
  return { cluster, record, mft: Number(b.readBigUInt64LE(0x30)) * cluster };
}

async function volumeRecord(v: Volume, boot: Buffer): Promise<{ label?: string | undefined; version?: string | undefined }> {
  const g = geometry(v, boot);
  const at = g.mft + VOLUME_RECORD * g.record;
  if (at + g.record > v.length) throw vmxError(GUEST.FILESYSTEM, 'the NTFS MFT lies past the end of the volume', { file: v.disk.name, offset: v.offset + 0x30 });
  const rec = applyFixups(v, await v.read(at, g.record), v.offset + at);
  if (!rec) return {};
  const out: { label?: string; version?: string } = {};
  for (let p = rec.readUInt16LE(0x14); p + 24 <= rec.length; ) {
    const type = rec.readUInt32LE(p);
    const len = rec.readUInt32LE(p + 4);
    if (type === 0xffffffff || len < 24 || p + len > rec.length) break;
    if (rec[p + 8] === 0) {
      const vlen = rec.readUInt32LE(p + 0x10);
      const voff = p + rec.readUInt16LE(p + 0x14);
      if (type === ATTR_VOLUME_NAME) out.label = rec.toString('utf16le', voff, Math.min(rec.length, voff + vlen)) || undefined;
      if (type === ATTR_VOLUME_INFORMATION && voff + 10 <= rec.length) out.version = `${rec[voff + 8]}.${rec[voff + 9]}`;
    }
    p += len;
  }
  return out;
}

/** The update sequence array: the last two bytes of each 512-byte stride hold the USN and are restored from the array. */
function applyFixups(v: Volume, rec: Buffer, where: number): Buffer | undefined {
  if (rec.toString('latin1', 0, 4) !== 'FILE') return undefined;
  const usa = rec.readUInt16LE(4);
  const count = rec.readUInt16LE(6);
  if (count < 1 || usa + count * 2 > rec.length || (count - 1) * 512 > rec.length) {
    throw vmxError(GUEST.FILESYSTEM, `NTFS FILE record has an update sequence array of ${count} entries at ${usa} that does not fit the record`, { file: v.disk.name, offset: where + 4 });
  }
  const usn = rec.readUInt16LE(usa);
  for (let i = 1; i < count; i++) {
    const end = i * 512 - 2;
    if (rec.readUInt16LE(end) !== usn) throw vmxError(GUEST.FILESYSTEM, `NTFS FILE record sector ${i} fails its update sequence check (torn write)`, { file: v.disk.name, offset: where + end });
    rec.writeUInt16LE(rec.readUInt16LE(usa + 2 * i), end);
  }
  return rec;
}
