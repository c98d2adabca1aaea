/** Minimal XML writer for the fakes' answers: objects become elements, arrays EC2-style `<item>` lists. */
export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [k: string]: XmlValue };

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function xmlElement(tag: string, v: XmlValue, itemTag = 'item'): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return `<${tag}>${v.map((x) => xmlElement(itemTag, x, itemTag)).join('')}</${tag}>`;
  if (typeof v === 'object') return `<${tag}>${Object.entries(v).map(([k, x]) => xmlElement(k, x, itemTag)).join('')}</${tag}>`;
  return `<${tag}>${esc(String(v))}</${tag}>`;
}

/** A whole document: declaration, root with its namespace, children. */
export function xmlDocument(root: string, ns: string | undefined, body: Record<string, XmlValue>, itemTag = 'item'): string {
  const inner = Object.entries(body).map(([k, x]) => xmlElement(k, x, itemTag)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns ? ` xmlns="${ns}"` : ''}>${inner}</${root}>`;
}
