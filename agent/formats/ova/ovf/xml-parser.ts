import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';

/** An element with its attributes by qualified name and its text content (concatenated). */
export interface XmlElement {
  readonly name: string;
  /** Name without its namespace prefix: OVF readers match rasd:/vssd:/ovf: items by local name. */
  readonly local: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const MAX_DEPTH = 128;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * A minimal non-validating XML 1.0 parser for OVF descriptors: elements, attributes, text,
 * CDATA, comments, processing instructions, the five predefined entities and character
 * references. A DOCTYPE is refused outright, so no entity can be declared or expanded (no
 * "billion laughs", no external entities); nesting is bounded.
 */
export function parseXml(text: string, file: string): XmlElement {
  return new XmlParser(text.replace(/^\uFEFF/, ''), file).document();
}

class XmlParser {
  private pos = 0;

  constructor(
    private readonly s: string,
    private readonly file: string,
  ) {}

  document(): XmlElement {
    this.misc();
    if (this.s.startsWith('<!DOCTYPE', this.pos)) throw this.fail('a DOCTYPE is not allowed in an OVF descriptor (entity declarations are refused)');
    if (this.s[this.pos] !== '<') throw this.fail('the document has no root element');
    const root = this.element(0);
    this.misc();
    if (this.pos < this.s.length) throw this.fail('content after the root element');
    return root;
  }

  /** Whitespace, comments and processing instructions between top-level constructs. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.s.startsWith('<?', this.pos)) this.skipPast('?>', 'processing instruction');
      else if (this.s.startsWith('<!--', this.pos)) this.skipPast('-->', 'comment');
      else return;
    }
  }

  private element(depth: number): XmlElement {
    if (depth > MAX_DEPTH) throw this.fail(`elements nest deeper than ${MAX_DEPTH}`);
    this.pos++; // '<'
    const name = this.name();
    const attrs = this.attributes();
    const el: XmlElement = { name, local: name.slice(name.indexOf(':') + 1), attrs, children: [], text: '' };
    if (this.s.startsWith('/>', this.pos)) {
      this.pos += 2;
      return el;
    }
    this.expect('>');
    this.content(el, depth);
    return el;
  }

  private attributes(): Map<string, string> {
    const attrs = new Map<string, string>();
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = this.s[this.pos];
      if (c === '>' || c === '/' || c === undefined) return attrs;
      if (this.pos === before) throw this.fail('attributes must be separated by whitespace');
      const key = this.name();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") throw this.fail(`attribute ${key} has no quoted value`);
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end === -1) throw this.fail(`attribute ${key} is not closed`);
      const raw = this.s.slice(this.pos + 1, end);
      if (raw.includes('<')) throw this.fail(`attribute ${key} contains "<"`);
      if (attrs.has(key)) throw this.fail(`attribute ${key} appears twice`);
      attrs.set(key, this.decode(raw));
      this.pos = end + 1;
    }
  }

  private content(el: XmlElement, depth: number): void {
    for (;;) {
      const lt = this.s.indexOf('<', this.pos);
      if (lt === -1) throw this.fail(`element <${el.name}> is not closed`);
      el.text += this.decode(this.s.slice(this.pos, lt));
      this.pos = lt;
      if (this.s.startsWith('</', this.pos)) {
        this.pos += 2;
        const name = this.name();
        if (name !== el.name) throw this.fail(`</${name}> closes <${el.name}>`);
        this.skipSpace();
        this.expect('>');
        return;
      }
      if (this.s.startsWith('<!--', this.pos)) this.skipPast('-->', 'comment');
      else if (this.s.startsWith('<![CDATA[', this.pos)) el.text += this.skipPast(']]>', 'CDATA section').slice(9);
      else if (this.s.startsWith('<?', this.pos)) this.skipPast('?>', 'processing instruction');
      else if (this.s.startsWith('<!', this.pos)) throw this.fail('markup declarations are not allowed');
      else el.children.push(this.element(depth + 1));
    }
  }

  private name(): string {
    const m = /^[A-Za-z_:][\w.:-]*/.exec(this.s.slice(this.pos, this.pos + 256));
    if (!m) throw this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }

  /** Replaces the predefined entities and character references; any other "&name;" is an error. */
  private decode(raw: string): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;]{0,10});?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) throw this.fail(`"&" not part of an entity reference`);
      if (PREDEFINED[ref] !== undefined) return PREDEFINED[ref]!;
      const m = /^#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7})$/.exec(ref);
      const cp = m ? (m[1]!.startsWith('x') ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10)) : NaN;
      if (!(cp >= 1 && cp <= 0x10ffff)) throw this.fail(`undefined entity reference &${ref};`);
      return String.fromCodePoint(cp);
    });
  }

  private skipPast(end: string, what: string): string {
    const i = this.s.indexOf(end, this.pos);
    if (i === -1) throw this.fail(`${what} is not closed`);
    const body = this.s.slice(this.pos, i);
    this.pos = i + end.length;
    return body;
  }

  private skipSpace(): void {
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos]!)) this.pos++;
  }

  private expect(c: string): void {
    if (this.s[this.pos] !== c) throw this.fail(`expected "${c}"`);
    this.pos++;
  }

  /** Errors name the character offset (the descriptor is UTF-8, so close to the byte offset) and line. */
  private fail(rule: string) {
    const line = this.s.slice(0, this.pos).split('\n').length;
    return vmxError(OVA.BAD_XML, `XML error at line ${line}: ${rule}`, { file: this.file, offset: this.pos });
  }
}

/** Helpers for walking a parsed envelope by local names. */
export function child(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local);
}

export function childrenNamed(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local);
}

/** An attribute by local name (ovf:href, href, vmw:key...): the prefixed form wins when both exist. */
export function attr(el: XmlElement, local: string): string | undefined {
  let plain: string | undefined;
  for (const [k, v] of el.attrs) {
    if (k === local) plain = v;
    else if (k.endsWith(`:${local}`) && !k.startsWith('xmlns')) return v;
  }
  return plain;
}
