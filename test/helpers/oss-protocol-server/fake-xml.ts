/**
 * The little XML the OSS protocol fake speaks: documents built from plain objects (OSS API
 * reference response bodies are flat elements and repeated containers) and a bounded parser for
 * the one request body it reads, CompleteMultipartUpload.
 */

export type XmlValue = string | number | boolean | XmlObject | XmlObject[] | undefined;
export interface XmlObject {
  [name: string]: XmlValue;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function xmlUnescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name] ?? '';
  });
}

function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => renderElement(name, v)).join('');
  if (typeof value === 'object') {
    const inner = Object.entries(value).map(([k, v]) => renderElement(k, v)).join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

export function xmlDocument(root: string, body: XmlObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderElement(root, body)}`;
}

export interface CompletePart {
  partNumber: number;
  etag: string;
}

/** Largest CompleteMultipartUpload body accepted: 10,000 parts of ~100 bytes each, with room. */
export const MAX_COMPLETE_BODY = 2 * 1024 * 1024;

/**
 * Parses `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...</CompleteMultipartUpload>`
 * (OSS API reference, CompleteMultipartUpload "Request elements"). Returns undefined when the body
 * is not that document.
 */
export function parseCompleteMultipartUpload(body: string): CompletePart[] | undefined {
  const root = /<CompleteMultipartUpload(?:\s[^>]*)?>([\s\S]*)<\/CompleteMultipartUpload>/.exec(body);
  if (!root) return undefined;
  const parts: CompletePart[] = [];
  const partRe = /<Part>([\s\S]*?)<\/Part>/g;
  for (let m = partRe.exec(root[1]!); m; m = partRe.exec(root[1]!)) {
    const num = /<PartNumber>\s*(\d{1,9})\s*<\/PartNumber>/.exec(m[1]!);
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]!);
    if (!num || !etag) return undefined;
    parts.push({ partNumber: Number(num[1]), etag: xmlUnescape(etag[1]!.trim()) });
  }
  return parts;
}

/** Largest PutObjectTagging body accepted: 10 tags of 128 + 256 characters, escaped, with room. */
export const MAX_TAGGING_BODY = 64 * 1024;

/**
 * Parses `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>` (OSS API reference,
 * PutObjectTagging "Request elements"). Returns undefined when the body is not that document.
 */
export function parseTaggingDocument(body: string): Array<{ key: string; value: string }> | undefined {
  const set = /<Tagging(?:\s[^>]*)?>\s*<TagSet>([\s\S]*)<\/TagSet>\s*<\/Tagging>/.exec(body);
  if (!set) return undefined;
  const tags: Array<{ key: string; value: string }> = [];
  const tagRe = /<Tag>([\s\S]*?)<\/Tag>/g;
  for (let m = tagRe.exec(set[1]!); m; m = tagRe.exec(set[1]!)) {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1]!);
    const value = /<Value>([\s\S]*?)<\/Value>/.exec(m[1]!) ?? (/<Value\s*\/>/.test(m[1]!) ? [null, ''] : null);
    if (!key || !value) return undefined;
    tags.push({ key: xmlUnescape(key[1]!), value: xmlUnescape(value[1]!) });
  }
  return tags;
}
