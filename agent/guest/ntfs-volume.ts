import type { Probe, Volume } from './volume-probe.js';
import { applyFixups, ATTR, ntfsGeometry } from './ntfs-records.js';

const VOLUME_RECORD = 3;

/**
 * NTFS: boot sector OEM "NTFS    ", serial number at 0x48; the label and NTFS version are resident
 * attributes of MFT record 3 ($Volume). The first MFT records are contiguous from the MFT's start
 * cluster, so record 3 is read without the MFT's own runlist. Structures in ntfs-records.ts (the
 * Linux-NTFS project's documentation); files are read by ntfs-reader.ts.
 */
export const ntfs: Probe = async (v) => {
  const b = await v.read(0, 512);
  if (b.toString('latin1', 3, 11) !== 'NTFS    ') return undefined;
  const serial = b.readBigUInt64LE(0x48).toString(16).toUpperCase().padStart(16, '0');
  const volume = await volumeRecord(v, b);
  return { kind: 'ntfs', uuid: serial, label: volume.label, details: volume.version ? { ntfsVersion: volume.version } : undefined };
};

async function volumeRecord(v: Volume, boot: Buffer): Promise<{ label?: string | undefined; version?: string | undefined }> {
  const g = ntfsGeometry(v, boot);
  const at = g.mft + VOLUME_RECORD * g.record;
  const rec = applyFixups(v, await v.read(at, g.record), v.offset + at, 'FILE');
  if (!rec) return {};
  const out: { label?: string; version?: string } = {};
  for (let p = rec.readUInt16LE(0x14); p + 24 <= rec.length; ) {
    const type = rec.readUInt32LE(p);
    const len = rec.readUInt32LE(p + 4);
    if (type === ATTR.END || len < 24 || p + len > rec.length) break;
    if (rec[p + 8] === 0) {
      const vlen = rec.readUInt32LE(p + 0x10);
      const voff = p + rec.readUInt16LE(p + 0x14);
      if (type === ATTR.VOLUME_NAME) out.label = rec.toString('utf16le', voff, Math.min(rec.length, voff + vlen)) || undefined;
      if (type === ATTR.VOLUME_INFORMATION && voff + 10 <= rec.length) out.version = `${rec[voff + 8]}.${rec[voff + 9]}`;
    }
    p += len;
  }
  return out;
}
