import { vmxError } from '../core/errors.js';
import { GUEST } from './error-codes.js';
import type { Volume } from './volume-probe.js';

/*
 * LVM2 physical volumes (lvm2's lib/format_text/layout.h and format-text.c): the "LABELONE" label in
 * one of the first four sectors, the PV header after it (PV UUID, data areas, metadata areas), the
 * metadata area header " LVM2 x[5A%r0N*>" with the location of the current text metadata, and that
 * text (lvm.conf-like syntax: sections, key = value). Written here because no maintained JavaScript
 * reader of LVM metadata exists. Only what maps a logical volume to bytes of this PV is used.
 */

const MDA_MAGIC = ' LVM2 x[5A%r0N*>';
/** The text metadata is small (a few KiB); 1 MiB bounds a malformed size. */
const MAX_TEXT = 1024 * 1024;

export interface LogicalVolume {
  vg: string;
  name: string;
  /** Byte offset inside the PV and length, for a volume that is one linear segment on this PV. */
  offset?: number | undefined;
  length?: number | undefined;
  /** Why the volume is not followed (several segments, striped, on another PV, thin, ...). */
  notFollowed?: string | undefined;
}

type Section = { [key: string]: Value };
type Value = string | number | Value[] | Section;

function bad(v: Volume, at: number, rule: string): Error {
  return vmxError(GUEST.FILESYSTEM, `LVM2 physical volume at byte ${v.offset}: ${rule}`, { file: v.disk.name, offset: v.offset + at });
}

/** The logical volumes the PV's current metadata describes, each mapped to this PV where it is one linear segment. */
export async function logicalVolumes(v: Volume): Promise<LogicalVolume[]> {
  const head = await v.read(0, 4096);
  let label = -1;
  for (let s = 0; s < 4 && label < 0; s++) if (head.toString('latin1', s * 512, s * 512 + 8) === 'LABELONE') label = s * 512;
  if (label < 0) return [];
  const pvAt = label + head.readUInt32LE(label + 20);
  if (pvAt + 40 > head.length) throw bad(v, label + 20, `the PV header offset ${pvAt - label} lies outside the label sector`);
  const pvUuid = head.toString('latin1', pvAt, pvAt + 32);
  const areas = (from: number): { list: { offset: number; size: number }[]; end: number } => {
    const list: { offset: number; size: number }[] = [];
    for (let p = from; ; p += 16) {
      if (p + 16 > head.length || list.length > 16) throw bad(v, p, 'the PV header\'s area lists are not terminated');
      const offset = Number(head.readBigUInt64LE(p));
      if (offset === 0) return { list, end: p + 16 };
      list.push({ offset, size: Number(head.readBigUInt64LE(p + 8)) });
    }
  };
  const data = areas(pvAt + 40);
  const meta = areas(data.end);
  const mda = meta.list[0];
  if (!mda) return [];
  const text = await metadataText(v, mda.offset, mda.size);
  return mapVolumes(v, parse(text, v), pvUuid);
}

async function metadataText(v: Volume, mdaStart: number, mdaSize: number): Promise<string> {
  const h = await v.read(mdaStart, 512);
  if (h.toString('latin1', 4, 20) !== MDA_MAGIC) throw bad(v, mdaStart + 4, 'the metadata area header lacks its magic');
  const offset = Number(h.readBigUInt64LE(40));
  const size = Number(h.readBigUInt64LE(48));
  if (size === 0 || size > MAX_TEXT || offset < 512 || offset >= mdaSize) throw bad(v, mdaStart + 40, `the metadata text location (${offset}, ${size} bytes) is outside the ${mdaSize}-byte area`);
  // format-text.c: the text area is a circular buffer after the 512-byte header; a record may wrap.
  const first = Math.min(size, mdaSize - offset);
  const parts = [await v.read(mdaStart + offset, first)];
  if (first < size) parts.push(await v.read(mdaStart + 512, size - first));
  return Buffer.concat(parts).toString('utf8').replace(/\0[\s\S]*$/, '');
}

/** The lvm.conf syntax: `name {` sections, `key = value` with strings, numbers and [ ... ] lists; # comments. */
function parse(text: string, v: Volume): Section {
  const tokens = text.replace(/#[^\n"]*$/gm, '').match(/"(?:[^"\\]|\\.)*"|[{}[\]=,]|[^\s{}[\]=,"]+/g) ?? [];
  let i = 0;
  const value = (): Value => {
    const t = tokens[i++];
    if (t === undefined) throw bad(v, 0, 'the metadata text ends inside a value');
    if (t === '[') {
      const list: Value[] = [];
      while (tokens[i] !== ']') {
        if (i >= tokens.length) throw bad(v, 0, 'the metadata text ends inside a list');
        if (tokens[i] === ',') i++;
        else list.push(value());
      }
      i++;
      return list;
    }
    if (t.startsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
    return /^-?\d+$/.test(t) ? Number(t) : t;
  };
  const section = (depth: number): Section => {
    if (depth > 16) throw bad(v, 0, 'the metadata text nests sections more than 16 deep');
    const out: Section = {};
    while (i < tokens.length && tokens[i] !== '}') {
      const key = tokens[i++]!;
      if (tokens[i] === '{') {
        i++;
        out[key] = section(depth + 1);
        i++;
      } else if (tokens[i] === '=') {
        i++;
        out[key] = value();
      } else throw bad(v, 0, `unexpected "${tokens[i] ?? 'end'}" after "${key}" in the metadata text`);
    }
    return out;
  };
  return section(0);
}

function isSection(x: Value | undefined): x is Section {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function mapVolumes(v: Volume, root: Section, pvUuid: string): LogicalVolume[] {
  const out: LogicalVolume[] = [];
  for (const [vgName, vg] of Object.entries(root)) {
    if (!isSection(vg)) continue;
    const extent = Number(vg.extent_size) * 512;
    const pvs = isSection(vg.physical_volumes) ? vg.physical_volumes : {};
    const mine = Object.entries(pvs).find(([, pv]) => isSection(pv) && String(pv.id).replace(/-/g, '') === pvUuid);
    const lvs = isSection(vg.logical_volumes) ? vg.logical_volumes : {};
    for (const [name, lv] of Object.entries(lvs)) {
      if (!isSection(lv)) continue;
      out.push({ vg: vgName, name, ...placement(lv, mine, extent, v) });
    }
  }
  return out;
}

function placement(lv: Section, mine: [string, Value] | undefined, extent: number, v: Volume): Pick<LogicalVolume, 'offset' | 'length' | 'notFollowed'> {
  const segs = Object.entries(lv).filter(([k, s]) => /^segment\d+$/.test(k) && isSection(s)).map(([, s]) => s as Section);
  if (segs.length !== 1) return { notFollowed: `${segs.length} segments` };
  const s = segs[0]!;
  const stripes = Array.isArray(s.stripes) ? s.stripes : [];
  if (s.type !== 'striped' || Number(s.stripe_count) !== 1 || stripes.length !== 2) return { notFollowed: `a ${String(s.type)} segment${s.stripe_count ? ` of ${String(s.stripe_count)} stripes` : ''}` };
  if (!mine || stripes[0] !== mine[0]) return { notFollowed: `its extents lie on another physical volume (${String(stripes[0])})` };
  const peStart = Number((mine[1] as Section).pe_start) * 512;
  const offset = peStart + Number(stripes[1]) * extent;
  const length = Number(s.extent_count) * extent;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || extent <= 0 || offset + length > v.length) {
    return { notFollowed: `its segment (${offset}+${length}) lies outside the physical volume` };
  }
  return { offset, length };
}
