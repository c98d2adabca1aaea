import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';
import { attr, child, childrenNamed, parseXml, type XmlElement } from './xml-parser.js';
import { unitMultiplier } from './ovf-units.js';
import { parseHardware } from './ovf-hardware.js';
import { safeHref } from './ovf-href.js';
import type { OvfDisk, OvfEnvelope, OvfFile } from './ovf-types.js';

/** Descriptors are read into memory whole: a bound no real one (tens of KiB) comes near. */
export const MAX_DESCRIPTOR_BYTES = 16 * 1024 * 1024;

const MAX_FILES = 4096;

/**
 * Parses an OVF descriptor (DMTF DSP0243 1.x and 2.x; both share the element names used here,
 * under namespaces .../ovf/envelope/1 and .../ovf/envelope/2): References, DiskSection,
 * NetworkSection and the first VirtualSystem's hardware.
 */
export function parseEnvelope(bytes: Buffer, file: string): OvfEnvelope {
  const root = parseXml(bytes.toString('utf8'), file);
  const bad = (rule: string) => vmxError(OVA.BAD_ENVELOPE, rule, { file });
  if (root.local !== 'Envelope') throw bad(`the root element is <${root.name}>, not an OVF <Envelope>`);
  const ns = [...root.attrs].find(([k, v]) => (k === 'xmlns' || k.startsWith('xmlns:')) && /schemas\.dmtf\.org\/ovf\/envelope\/\d/.test(v))?.[1];
  const files = parseReferences(root, file);
  const disks = parseDisks(root, file, new Set(files.map((f) => f.id)));
  const networkSection = findSection(root, 'NetworkSection');
  const networks = networkSection ? childrenNamed(networkSection, 'Network').map((n) => attr(n, 'name') ?? '') : [];
  const vs = child(root, 'VirtualSystem') ?? firstInCollection(root);
  return {
    ovfVersion: ns ? `${/envelope\/(\d)/.exec(ns)![1]}.x` : 'unknown',
    files,
    disks,
    networks,
    virtualSystem: vs ? { id: attr(vs, 'id'), name: child(vs, 'Name')?.text.trim(), hardware: parseHardware(vs, file) } : undefined,
  };
}

/** DSP0243 §7.1: <References><File ovf:id ovf:href [ovf:size] [ovf:compression] [ovf:chunkSize]/>. */
function parseReferences(root: XmlElement, file: string): OvfFile[] {
  const refs = child(root, 'References');
  const elements = refs ? childrenNamed(refs, 'File') : [];
  if (elements.length > MAX_FILES) throw vmxError(OVA.BAD_ENVELOPE, `References lists ${elements.length} files, over the ${MAX_FILES} limit`, { file });
  const ids = new Set<string>();
  return elements.map((el) => {
    const id = required(el, 'id', file);
    if (ids.has(id)) throw vmxError(OVA.BAD_ENVELOPE, `File id "${id}" appears twice in References`, { file });
    ids.add(id);
    return {
      id,
      href: safeHref(required(el, 'href', file), file),
      size: optionalNumber(el, 'size', file),
      chunkSize: positive(optionalNumber(el, 'chunkSize', file), 'chunkSize', id, file),
      compression: attr(el, 'compression') === 'identity' ? undefined : attr(el, 'compression'),
    };
  });
}

/** DSP0243 §9.1: <Disk ovf:diskId ovf:capacity [ovf:capacityAllocationUnits] [ovf:fileRef] [ovf:format]/>. */
function parseDisks(root: XmlElement, file: string, fileIds: Set<string>): OvfDisk[] {
  const section = findSection(root, 'DiskSection');
  if (!section) return [];
  return childrenNamed(section, 'Disk').map((el) => {
    const diskId = required(el, 'diskId', file);
    const fileRef = attr(el, 'fileRef');
    if (fileRef !== undefined && !fileIds.has(fileRef)) {
      throw vmxError(OVA.BAD_ENVELOPE, `Disk "${diskId}" has fileRef "${fileRef}", which References does not list`, { file });
    }
    const capacity = required(el, 'capacity', file);
    const units = attr(el, 'capacityAllocationUnits');
    const multiplier = unitMultiplier(units);
    if (!/^[0-9]{1,16}$/.test(capacity) || multiplier === undefined || !Number.isSafeInteger(Number(capacity) * multiplier)) {
      throw vmxError(OVA.BAD_ENVELOPE, `Disk "${diskId}" capacity "${capacity}" with units "${units ?? 'byte'}" is not a byte count vmxfer can represent (DSP0004 Annex C.1 units)`, { file });
    }
    return { diskId, fileRef, capacityBytes: Number(capacity) * multiplier, format: attr(el, 'format'), populatedSize: optionalNumber(el, 'populatedSize', file) };
  });
}

/** Sections may appear in the Envelope directly (1.x, 2.x) — DiskSection and NetworkSection do. */
function findSection(root: XmlElement, local: string): XmlElement | undefined {
  return child(root, local);
}

function firstInCollection(root: XmlElement): XmlElement | undefined {
  const coll = child(root, 'VirtualSystemCollection');
  return coll ? child(coll, 'VirtualSystem') : undefined;
}

function required(el: XmlElement, name: string, file: string): string {
  const v = attr(el, name);
  if (v === undefined || v === '') throw vmxError(OVA.BAD_ENVELOPE, `<${el.name}> lacks the required ovf:${name} attribute`, { file });
  return v;
}

function optionalNumber(el: XmlElement, name: string, file: string): number | undefined {
  const v = attr(el, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw vmxError(OVA.BAD_ENVELOPE, `<${el.name}> ovf:${name}="${v.slice(0, 40)}" is not a non-negative integer below 2^53`, { file });
  }
  return Number(v);
}

function positive(n: number | undefined, name: string, id: string, file: string): number | undefined {
  if (n === 0) throw vmxError(OVA.BAD_ENVELOPE, `File "${id}" has ovf:${name}="0"`, { file });
  return n;
}
