/**
 * The XML S3 speaks: a small strict parser for request documents (CompleteMultipartUpload,
 * Delete, CreateBucketConfiguration) and a writer for responses. The parser reads elements,
 * attributes, character data, the five predefined entities and numeric references, CDATA,
 * comments and processing instructions; namespaces prefixes are dropped from names. Anything
 * else (a DOCTYPE, mismatched tags, text outside the root) is not well-formed and throws.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

export class XmlSyntaxError extends Error {}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{1,10});/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isInteger(code) || code < 0 || code > 0x10ffff) throw new XmlSyntaxError(`bad reference ${whole}`);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlSyntaxError(`unknown entity ${whole}`);
    return v;
  });
}

const localName = (qname: string) => qname.slice(qname.indexOf(':') + 1);

/** Parses one XML document into its root element. */
export function parseXml(input: string): XmlElement {
  let i = 0;
  const n = input.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  if (input.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const lt = input.indexOf('<', i);
    const text = lt < 0 ? input.slice(i) : input.slice(i, lt);
    if (text !== '') {
      const top = stack[stack.length - 1];
      if (top) top.text += decodeEntities(text);
      else if (text.trim() !== '') throw new XmlSyntaxError('text outside the root element');
    }
    if (lt < 0) break;
    if (input.startsWith('<?', lt)) {
      const end = input.indexOf('?>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated processing instruction');
      i = end + 2;
    } else if (input.startsWith('<!--', lt)) {
      const end = input.indexOf('-->', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated comment');
      i = end + 3;
    } else if (input.startsWith('<![CDATA[', lt)) {
      const end = input.indexOf(']]>', lt);
      const top = stack[stack.length - 1];
      if (end < 0 || !top) throw new XmlSyntaxError('misplaced CDATA');
      top.text += input.slice(lt + 9, end);
      i = end + 3;
    } else if (input.startsWith('<!', lt)) {
      throw new XmlSyntaxError('declarations are not accepted');
    } else if (input[lt + 1] === '/') {
      const end = input.indexOf('>', lt);
      if (end < 0) throw new XmlSyntaxError('unterminated end tag');
      const name = localName(input.slice(lt + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name) throw new XmlSyntaxError(`unexpected </${name}>`);
      i = end + 1;
    } else {
      const end = findTagEnd(input, lt);
      let body = input.slice(lt + 1, end);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*$/.exec(body);
      if (!m) throw new XmlSyntaxError('malformed start tag');
      const el: XmlElement = { name: localName(m[1]!), children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlSyntaxError('more than one root element');
      else root = el;
      if (!selfClosing) stack.push(el);
      i = end + 1;
    }
  }
  if (!root || stack.length > 0) throw new XmlSyntaxError('incomplete document');
  return root;
}

function findTagEnd(input: string, from: number): number {
  let quote = '';
  for (let j = from + 1; j < input.length; j++) {
    const c = input[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return j;
  }
  throw new XmlSyntaxError('unterminated start tag');
}

export const childrenNamed = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);
export const childText = (el: XmlElement, name: string) => el.children.find((c) => c.name === name)?.text;

// --- writing ---------------------------------------------------------------------------------

export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : c === "'" ? '&apos;' : '&#13;'));
}

/** A value of a response element: text, a nested element list, or absent (left out). */
export type XmlValue = string | number | boolean | XmlNode[] | undefined;
export type XmlNode = [name: string, value: XmlValue];

function writeNodes(nodes: readonly XmlNode[]): string {
  let out = '';
  for (const [name, value] of nodes) {
    if (value === undefined) continue;
    out += Array.isArray(value) ? `<${name}>${writeNodes(value)}</${name}>` : `<${name}>${escapeXml(String(value))}</${name}>`;
  }
  return out;
}

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A response document: the XML declaration, then the root with S3's namespace (or none). */
export function xmlDocument(root: string, nodes: readonly XmlNode[], namespace: string | undefined = S3_NAMESPACE): string {
  const ns = namespace ? ` xmlns="${namespace}"` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${writeNodes(nodes)}</${root}>`;
}
