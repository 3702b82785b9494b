// A small XML parser. WS-Management responses are plain namespaced XML; we need elements,
// attributes, text, CDATA, comments and the five predefined entities. DTDs are refused outright
// (entity expansion attacks), as is anything past the size, depth and node limits.
//
// Why not a library (weighed for issue 13): the client must match elements by namespace URI
// and local name (Namespaces in XML 1.0): WS-Management (DMTF DSP0226) defines its elements by
// namespace, and the prefix is whatever the server or a proxy chose (s:, env:, rsp:, w:).
// fast-xml-parser, the most used JavaScript parser, keeps or strips prefixes (removeNSPrefix) but does not resolve them to
// URIs, so a lookup would have to trust the prefix; its DOCTYPE/entity handling is also the part
// of it that has needed security fixes. The namespace-aware choices (saxes, @xmldom/xmldom) bring
// a parser, and for xmldom a DOM, much larger than the subset a WinRM reply uses, and neither
// bounds depth, node count or attributes for us. This file is 300 lines, refuses DTDs before
// reading one, is fuzzed (RELIABILITY.md) and is the only XML the product parses. Revisit if
// the product ever has to read XML it does not control the shape of.

/** The namespace the reserved prefix "xml" is bound to (Namespaces in XML 1.0, section 3). */
export const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";

export interface XmlElement {
  ns: string;
  local: string;
  attrs: XmlAttr[];
  children: Array<XmlElement | string>;
}

export interface XmlAttr {
  ns: string;
  local: string;
  value: string;
}

export interface XmlLimits {
  maxChars: number;
  maxDepth: number;
  maxNodes: number;
  /** Per element: WS-Management elements carry a handful; the duplicate check stays cheap. */
  maxAttributes: number;
}

const DEFAULT_XML_LIMITS: XmlLimits = { maxChars: 8 * 1024 * 1024, maxDepth: 48, maxNodes: 50_000, maxAttributes: 64 };

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlError";
  }
}

/** Names from the document in error messages: the host chooses their length. */
function clip(name: string): string {
  return name.length > 80 ? `${name.slice(0, 80)}… (${name.length} characters)` : name;
}

function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f /* _ */ ||
    c === 0x2d /* - */ ||
    c === 0x2e /* . */ ||
    c === 0x3a /* : */ ||
    c >= 0x80
  );
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const amp = s.indexOf("&", i);
    if (amp < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, amp);
    const semi = s.indexOf(";", amp);
    if (semi < 0 || semi - amp > 12) throw new XmlError("unterminated entity reference");
    const name = s.slice(amp + 1, semi);
    switch (name) {
      case "lt":
        out += "<";
        break;
      case "gt":
        out += ">";
        break;
      case "amp":
        out += "&";
        break;
      case "quot":
        out += '"';
        break;
      case "apos":
        out += "'";
        break;
      default: {
        let code = NaN;
        if (name.startsWith("#x")) code = /^[0-9a-fA-F]+$/.test(name.slice(2)) ? parseInt(name.slice(2), 16) : NaN;
        else if (name.startsWith("#")) code = /^[0-9]+$/.test(name.slice(1)) ? parseInt(name.slice(1), 10) : NaN;
        if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
          throw new XmlError(`unknown or invalid entity &${name};`);
        }
        out += String.fromCodePoint(code);
      }
    }
    i = semi + 1;
  }
  return out;
}

interface RawElement {
  qname: string;
  rawAttrs: Array<[string, string]>;
  scope: Map<string, string>;
  children: Array<XmlElement | string>;
}

/** Parses one XML document into a namespace-resolved element tree. Never evaluates anything. */
export function parseXml(text: string, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim = { ...DEFAULT_XML_LIMITS, ...limits };
  if (text.length > lim.maxChars) throw new XmlError(`document larger than ${lim.maxChars} characters`);
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  const stack: RawElement[] = [];
  let root: XmlElement | null = null;
  let nodes = 0;

  const resolve = (qname: string, scope: Map<string, string>, isAttr: boolean): { ns: string; local: string } => {
    const colon = qname.indexOf(":");
    if (colon < 0) return { ns: isAttr ? "" : (scope.get("") ?? ""), local: qname };
    const prefix = qname.slice(0, colon);
    const local = qname.slice(colon + 1);
    if (local === "" || local.includes(":")) throw new XmlError(`bad qualified name ${clip(qname)}`);
    if (prefix === "xml") return { ns: XML_NAMESPACE, local };
    const ns = scope.get(prefix);
    if (ns === undefined) throw new XmlError(`unbound namespace prefix ${clip(prefix)}`);
    return { ns, local };
  };

  const addText = (s: string) => {
    const top = stack[stack.length - 1];
    if (!top) {
      if (s.trim() !== "") throw new XmlError("text outside the root element");
      return;
    }
    if (s === "") return;
    const last = top.children[top.children.length - 1];
    if (typeof last === "string") top.children[top.children.length - 1] = last + s;
    else top.children.push(s);
  };

  while (i < n) {
    const lt = text.indexOf("<", i);
    if (lt < 0) {
      addText(decodeEntities(text.slice(i)));
      break;
    }
    if (lt > i) addText(decodeEntities(text.slice(i, lt)));
    i = lt;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i + 2);
      if (end < 0) throw new XmlError("unterminated processing instruction");
      i = end + 2;
      continue;
    }
    if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i + 4);
      if (end < 0) throw new XmlError("unterminated comment");
      i = end + 3;
      continue;
    }
    if (text.startsWith("<![CDATA[", i)) {
      const end = text.indexOf("]]>", i + 9);
      if (end < 0) throw new XmlError("unterminated CDATA section");
      if (stack.length === 0) throw new XmlError("CDATA outside the root element");
      addText(text.slice(i + 9, end));
      i = end + 3;
      continue;
    }
    if (text.startsWith("<!", i)) throw new XmlError("DTDs and declarations are not accepted");
    if (text.startsWith("</", i)) {
      let j = i + 2;
      while (j < n && isNameChar(text.charCodeAt(j))) j++;
      const qname = text.slice(i + 2, j);
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (text[j] !== ">") throw new XmlError("malformed end tag");
      const open = stack.pop();
      if (!open || open.qname !== qname) throw new XmlError(`end tag </${clip(qname)}> does not match`);
      const el = finishElement(open, resolve);
      i = j + 1;
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlError("more than one root element");
      else root = el;
      continue;
    }
    // Start tag.
    let j = i + 1;
    while (j < n && isNameChar(text.charCodeAt(j))) j++;
    const qname = text.slice(i + 1, j);
    if (qname === "") throw new XmlError("malformed start tag");
    const rawAttrs: Array<[string, string]> = [];
    const seenAttrs = new Set<string>();
    let selfClosing = false;
    for (;;) {
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (j >= n) throw new XmlError("unterminated start tag");
      if (text[j] === ">") {
        j++;
        break;
      }
      if (text[j] === "/" && text[j + 1] === ">") {
        selfClosing = true;
        j += 2;
        break;
      }
      const a0 = j;
      while (j < n && isNameChar(text.charCodeAt(j))) j++;
      const aname = text.slice(a0, j);
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (aname === "" || text[j] !== "=") throw new XmlError("malformed attribute");
      j++;
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      const quote = text[j];
      if (quote !== '"' && quote !== "'") throw new XmlError("attribute value must be quoted");
      const end = text.indexOf(quote, j + 1);
      if (end < 0) throw new XmlError("unterminated attribute value");
      const rawValue = text.slice(j + 1, end);
      if (rawValue.includes("<")) throw new XmlError("'<' in attribute value");
      if (seenAttrs.has(aname)) throw new XmlError(`duplicate attribute ${clip(aname)}`);
      if (seenAttrs.size >= lim.maxAttributes) throw new XmlError(`more than ${lim.maxAttributes} attributes on <${clip(qname)}>`);
      seenAttrs.add(aname);
      rawAttrs.push([aname, decodeEntities(rawValue)]);
      j = end + 1;
    }
    if (++nodes > lim.maxNodes) throw new XmlError(`more than ${lim.maxNodes} elements`);
    if (stack.length >= lim.maxDepth) throw new XmlError(`nested deeper than ${lim.maxDepth}`);
    if (root) throw new XmlError("more than one root element");
    const parentScope = stack[stack.length - 1]?.scope ?? new Map<string, string>();
    let scope = parentScope;
    for (const [k, v] of rawAttrs) {
      if (k === "xmlns" || k.startsWith("xmlns:")) {
        if (scope === parentScope) scope = new Map(parentScope);
        scope.set(k === "xmlns" ? "" : k.slice(6), v);
      }
    }
    const raw: RawElement = { qname, rawAttrs, scope, children: [] };
    i = j;
    if (selfClosing) {
      const el = finishElement(raw, resolve);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else root = el;
    } else {
      stack.push(raw);
    }
  }
  if (stack.length > 0) throw new XmlError(`unclosed element <${clip(stack[stack.length - 1]!.qname)}>`);
  if (!root) throw new XmlError("no root element");
  return root;
}

function finishElement(
  raw: RawElement,
  resolve: (q: string, scope: Map<string, string>, isAttr: boolean) => { ns: string; local: string },
): XmlElement {
  const { ns, local } = resolve(raw.qname, raw.scope, false);
  const attrs: XmlAttr[] = [];
  for (const [k, v] of raw.rawAttrs) {
    if (k === "xmlns" || k.startsWith("xmlns:")) continue;
    attrs.push({ ...resolve(k, raw.scope, true), value: v });
  }
  return { ns, local, attrs, children: raw.children };
}

export function xmlChild(el: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return el?.children.find((c): c is XmlElement => typeof c !== "string" && c.ns === ns && c.local === local);
}

export function xmlChildren(el: XmlElement | undefined, ns: string, local: string): XmlElement[] {
  return (el?.children ?? []).filter((c): c is XmlElement => typeof c !== "string" && c.ns === ns && c.local === local);
}

export function xmlText(el: XmlElement | undefined): string {
  return (el?.children ?? []).filter((c): c is string => typeof c === "string").join("");
}

export function xmlAttr(el: XmlElement | undefined, local: string, ns = ""): string | undefined {
  return el?.attrs.find((a) => a.local === local && a.ns === ns)?.value;
}

/** Finds the first element with this name anywhere below `el` (depth-first). */
export function xmlFind(el: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) {
    if (typeof c === "string") continue;
    if (c.ns === ns && c.local === local) return c;
    const deep = xmlFind(c, ns, local);
    if (deep) return deep;
  }
  return undefined;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}
