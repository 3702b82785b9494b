// WinRM client: WS-Management (DMTF DSP0226) with Microsoft's Windows Remote Shell protocol
// ([MS-WSMV]) over HTTPS (5986) or HTTP (5985), as a RemoteSession.
//
// Shell lifecycle per [MS-WSMV] 3.1.4.1: Create (cmd shell, code page 65001 so reg.exe output
// arrives as UTF-8, no user profile) → Command → Send (closes stdin) → Receive until
// CommandState Done → Signal terminate → ... → Delete. A Receive that finds no output within
// OperationTimeout answers the SOAP fault 2150858793 (0x80338029, w:TimedOut): that is normal
// for a running command, and the client sends Receive again.
//
// Authentication:
// - Basic: only over HTTPS. Over HTTP the password would cross the network in clear text (and
//   WinRM refuses it anyway unless AllowUnencrypted is set), so we refuse before connecting.
// - NTLM (NTLMv2, via the "Negotiate" HTTP scheme, which is how WinRM accepts NTLM tokens): the
//   handshake runs on an empty POST, and the authenticated TCP connection is reused (keep-alive,
//   one socket per session) because NTLM authenticates the connection, not the request.
//   Over HTTPS the NTLM response carries the TLS channel binding (RFC 5929 tls-server-end-point),
//   which WinRM requires when CbtHardeningLevel is Strict.
//   Over HTTP every message is sealed with the NTLM session keys (multipart/encrypted,
//   "application/HTTP-SPNEGO-session-encrypted"), as WinRM requires unless AllowUnencrypted is
//   set. Unencrypted success responses over HTTP are rejected.
//
// TLS: certificates are validated against the system CAs or a given CA by default. For
// self-signed listeners (the default `winrm quickconfig -transport:https` setup) pin the
// certificate thumbprint instead: SHA-1 (40 hex digits, what Windows shows as "Thumbprint")
// or SHA-256 (64 hex digits). When pinned, only that exact certificate is accepted, and it is
// checked before a single byte of the request (or a credential) is sent.

import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { z } from "zod";
import { checkTransportTarget, type TargetCheckOptions } from "./target";
import { createAuthenticate, encodeNegotiate, NtlmError, type NtlmSession } from "./ntlm";
import { quoteWindowsCmd, UnquotableArgumentError } from "./quote";
import {
  AuthError,
  DEFAULT_EXEC_TIMEOUT_MS,
  DEFAULT_MAX_OUTPUT_BYTES,
  HostKeyMismatchError,
  RemoteOutputLimitError,
  RemoteTimeoutError,
  TransportError,
  type ExecOptions,
  type ExecResult,
  type RemoteSession,
} from "./types";

// =============================================================================================
// A small XML parser. WS-Management responses are plain namespaced XML; we need elements,
// attributes, text, CDATA, comments and the five predefined entities. DTDs are refused outright
// (entity expansion attacks), as is anything past the size, depth and node limits.

export const NS = {
  soap: "http://www.w3.org/2003/05/soap-envelope",
  wsa: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  wsman: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  msWsman: "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
  shell: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
  wsmanFault: "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
  transfer: "http://schemas.xmlsoap.org/ws/2004/09/transfer",
  xml: "http://www.w3.org/XML/1998/namespace",
} as const;

export const ACTION = {
  create: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
  delete: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
  command: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command",
  send: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send",
  receive: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive",
  signal: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal",
} as const;

export const CMD_SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";
export const SIGNAL_TERMINATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate";
export const COMMAND_STATE_DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done";

/** WS-Management fault codes (WSManFault/@Code) that need specific handling. */
export const WSMAN_FAULT = {
  /** 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT: no output within OperationTimeout; receive again. */
  operationTimedOut: 2150858793,
  /** 0x8033805B ERROR_WSMAN_INVALID_SELECTORS: the shell id is unknown (reboot, idle timeout). */
  shellNotFound: 2150858843,
  /** ERROR_ACCESS_DENIED. */
  accessDenied: 5,
} as const;

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
    if (prefix === "xml") return { ns: NS.xml, local };
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

// =============================================================================================
// SOAP envelopes

interface EnvelopeParams {
  to: string;
  action: string;
  messageId: string;
  operationTimeoutSec: number;
  shellId?: string;
  options?: Record<string, string>;
  body: string;
  locale: string;
}

const MAX_ENVELOPE_SIZE = 512000;

function envelope(p: EnvelopeParams): string {
  const selector = p.shellId
    ? `<w:SelectorSet><w:Selector Name="ShellId">${escapeXml(p.shellId)}</w:Selector></w:SelectorSet>`
    : "";
  const options = p.options
    ? `<w:OptionSet>${Object.entries(p.options)
        .map(([k, v]) => `<w:Option Name="${escapeXml(k)}">${escapeXml(v)}</w:Option>`)
        .join("")}</w:OptionSet>`
    : "";
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.wsa}" xmlns:w="${NS.wsman}" xmlns:p="${NS.msWsman}" xmlns:rsp="${NS.shell}">` +
    `<s:Header>` +
    `<a:To>${escapeXml(p.to)}</a:To>` +
    `<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${MAX_ENVELOPE_SIZE}</w:MaxEnvelopeSize>` +
    `<a:MessageID>${p.messageId}</a:MessageID>` +
    `<w:Locale xml:lang="${escapeXml(p.locale)}" s:mustUnderstand="false"/>` +
    `<p:DataLocale xml:lang="${escapeXml(p.locale)}" s:mustUnderstand="false"/>` +
    `<w:OperationTimeout>PT${p.operationTimeoutSec.toFixed(3)}S</w:OperationTimeout>` +
    `<w:ResourceURI s:mustUnderstand="true">${CMD_SHELL_URI}</w:ResourceURI>` +
    `<a:Action s:mustUnderstand="true">${p.action}</a:Action>` +
    selector +
    options +
    `</s:Header>` +
    `<s:Body>${p.body}</s:Body>` +
    `</s:Envelope>`
  );
}

export interface WsmanFault {
  /** WSManFault/@Code, e.g. 2150858793; null when the fault carries none. */
  code: number | null;
  subcode: string | null;
  message: string;
}

/** Text from a hostile peer, made safe to put in an error message. */
function sanitize(s: string, max = 400): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const FaultSchema = z.object({
  code: z.number().int().nonnegative().max(0xffffffff).nullable(),
  subcode: z.string().max(200).nullable(),
  message: z.string(),
});

export function extractFault(env: XmlElement): WsmanFault | null {
  const body = xmlChild(env, NS.soap, "Body");
  const fault = xmlChild(body, NS.soap, "Fault");
  if (!fault) return null;
  const code = xmlChild(fault, NS.soap, "Code");
  const subcode = xmlText(xmlChild(xmlChild(code, NS.soap, "Subcode"), NS.soap, "Value")).trim();
  const reason = xmlText(xmlChild(xmlChild(fault, NS.soap, "Reason"), NS.soap, "Text"));
  const wsmanFault = xmlFind(fault, NS.wsmanFault, "WSManFault");
  const codeAttr = xmlAttr(wsmanFault, "Code");
  const detailMessage = wsmanFault ? xmlText(xmlChild(wsmanFault, NS.wsmanFault, "Message")) : "";
  return FaultSchema.parse({
    code: codeAttr !== undefined && /^\d{1,10}$/.test(codeAttr) ? Number(codeAttr) : null,
    subcode: subcode === "" ? null : subcode,
    message: sanitize(detailMessage || reason || "no reason given"),
  });
}

const ID_PATTERN = /^[A-Za-z0-9{}-]{1,80}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const ReceiveSchema = z.object({
  streams: z.array(
    z.object({
      name: z.enum(["stdout", "stderr"]),
      commandId: z.string().regex(ID_PATTERN),
      data: z.string().regex(BASE64),
      end: z.boolean(),
    }),
  ),
  state: z
    .object({
      commandId: z.string().regex(ID_PATTERN),
      done: z.boolean(),
      exitCode: z.number().int().min(-0x80000000).max(0xffffffff).nullable(),
    })
    .nullable(),
});
export type ReceiveResult = z.infer<typeof ReceiveSchema>;

export function extractReceive(env: XmlElement): ReceiveResult {
  const resp = xmlChild(xmlChild(env, NS.soap, "Body"), NS.shell, "ReceiveResponse");
  if (!resp) throw new XmlError("no ReceiveResponse in the answer");
  const streams = xmlChildren(resp, NS.shell, "Stream").map((s) => ({
    name: xmlAttr(s, "Name"),
    commandId: xmlAttr(s, "CommandId"),
    data: xmlText(s).replace(/\s+/g, ""),
    end: (xmlAttr(s, "End") ?? "false").toLowerCase() === "true",
  }));
  const st = xmlChild(resp, NS.shell, "CommandState");
  const exit = xmlText(xmlChild(st, NS.shell, "ExitCode")).trim();
  return ReceiveSchema.parse({
    streams,
    state: st
      ? {
          commandId: xmlAttr(st, "CommandId"),
          done: xmlAttr(st, "State") === COMMAND_STATE_DONE,
          exitCode: /^-?\d{1,10}$/.test(exit) ? Number(exit) : null,
        }
      : null,
  });
}

// =============================================================================================
// HTTP with NTLM / Basic, certificate pinning and message encryption

export type WinRmAuth =
  | { kind: "basic"; username: string; password: string }
  /** username may be "DOMAIN\\user"; a local account needs no domain. */
  | { kind: "ntlm"; username: string; password: string; domain?: string };

export interface WinRmTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  caFile?: string;
  /** Pinned certificate thumbprint: SHA-1 (40 hex, Windows' "Thumbprint") or SHA-256 (64 hex);
   *  colons and spaces are ignored. When set, only this certificate is accepted. */
  thumbprint?: string;
  /** Name to verify the certificate against (and send as SNI) when it differs from `host`. */
  serverName?: string;
  /** Lowest TLS version for the management channel; default TLSv1.2. A host that still needs the
   *  fix may only speak TLS 1.0/1.1 on 5986 too (HTTP.sys uses SCHANNEL): lower it explicitly for
   *  such hosts, preferably together with a pinned thumbprint, or use HTTP with NTLM sealing. */
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
}

export interface WinRmOptions extends TargetCheckOptions {
  host: string;
  /** Default 5986 for https, 5985 for http. */
  port?: number;
  transport: "https" | "http";
  auth: WinRmAuth;
  /** For messages; default "host:port". */
  hostLabel?: string;
  tls?: WinRmTlsOptions;
  /** Per-Receive wait on the server (WS-Man OperationTimeout). Default 20 s. */
  operationTimeoutSec?: number;
  connectTimeoutMs?: number;
  /** Cap on one HTTP response body. Default 4 MiB (we ask for 512 kB envelopes). */
  maxResponseBytes?: number;
  path?: string;
  locale?: string;
  // allowList, resolver, denyList (TargetCheckOptions): the host is resolved once per session,
  // every address is checked, and every connection goes to that checked address; the name stays
  // in the Host header and the TLS server name.
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  authenticate: string[];
  body: Buffer;
  socket: Duplex;
}

const ENCRYPTED_BOUNDARY = "Encrypted Boundary";
const ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted";

function normalizeThumbprint(t: string): { algorithm: "sha1" | "sha256"; hex: string } | null {
  const hex = t.replace(/[\s:]/g, "").toLowerCase();
  if (/^[0-9a-f]{40}$/.test(hex)) return { algorithm: "sha1", hex };
  if (/^[0-9a-f]{64}$/.test(hex)) return { algorithm: "sha256", hex };
  return null;
}

/** The hash RFC 5929 tls-server-end-point uses: the certificate's signature hash, with MD5 and
 *  SHA-1 upgraded to SHA-256. We read the signatureAlgorithm OID from the DER ourselves. */
export function certificateBindingHash(der: Buffer): Buffer {
  const oid = signatureAlgorithmOid(der);
  const byOid: Record<string, string> = {
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
  };
  return createHash(byOid[oid ?? ""] ?? "sha256")
    .update(der)
    .digest();
}

function signatureAlgorithmOid(der: Buffer): string | null {
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, ...}, ... }
  const readTl = (at: number): { tag: number; len: number; body: number } | null => {
    if (at + 2 > der.length) return null;
    const tag = der[at]!;
    let len = der[at + 1]!;
    let body = at + 2;
    if (len & 0x80) {
      const bytes = len & 0x7f;
      if (bytes === 0 || bytes > 4 || body + bytes > der.length) return null;
      len = 0;
      for (let k = 0; k < bytes; k++) len = len * 256 + der[body + k]!;
      body += bytes;
    }
    return body + len <= der.length ? { tag, len, body } : null;
  };
  const cert = readTl(0);
  if (!cert || cert.tag !== 0x30) return null;
  const tbs = readTl(cert.body);
  if (!tbs) return null;
  const alg = readTl(tbs.body + tbs.len);
  if (!alg || alg.tag !== 0x30) return null;
  const oid = readTl(alg.body);
  if (!oid || oid.tag !== 0x06 || oid.len === 0) return null;
  const bytes = der.subarray(oid.body, oid.body + oid.len);
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (let k = 1; k < bytes.length; k++) {
    v = v * 128 + (bytes[k]! & 0x7f);
    if (!(bytes[k]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

type ConnectCallback = (err: Error | null, socket: Duplex) => void;

/** Agents whose connections are made (and verified) by us before the HTTP layer may write. */
class CallbackHttpAgent extends http.Agent {
  constructor(
    private readonly open: (cb: ConnectCallback) => void,
    opts: http.AgentOptions,
  ) {
    super(opts);
  }
  override createConnection(_o: http.ClientRequestArgs, cb?: ConnectCallback): Duplex | null | undefined {
    this.open(cb!);
    return undefined;
  }
}

class CallbackHttpsAgent extends https.Agent {
  constructor(
    private readonly open: (cb: ConnectCallback) => void,
    opts: https.AgentOptions,
  ) {
    super(opts);
  }
  override createConnection(_o: http.ClientRequestArgs, cb?: ConnectCallback): Duplex | null | undefined {
    this.open(cb!);
    return undefined;
  }
}

class WsmanHttp {
  private readonly agent: http.Agent;
  private readonly secure: boolean;
  private ntlm: { session: NtlmSession | null; socket: Duplex } | null = null;
  private readonly pin: { algorithm: "sha1" | "sha256"; hex: string } | null;

  constructor(
    private readonly opts: WinRmOptions & { port: number; path: string },
    private readonly hostLabel: string,
  ) {
    this.secure = opts.transport === "https";
    const pinRaw = opts.tls?.thumbprint;
    this.pin = pinRaw === undefined ? null : normalizeThumbprint(pinRaw);
    if (pinRaw !== undefined && !this.pin) {
      throw new TransportError(hostLabel, `The pinned WinRM thumbprint for ${hostLabel} is neither a SHA-1 (40 hex digits) nor a SHA-256 (64 hex digits) fingerprint.`, {
        code: "config",
      });
    }
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    // One socket per session: NTLM authenticates the TCP connection, and WinRM's HTTP message
    // encryption keeps sequence numbers per connection.
    const agentOpts = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    if (this.secure) {
      let ca: Array<string | Buffer> | undefined;
      if (opts.tls?.caFile) ca = [readFileSync(opts.tls.caFile)];
      if (opts.tls?.ca) ca = [...(ca ?? []), ...(Array.isArray(opts.tls.ca) ? opts.tls.ca : [opts.tls.ca])];
      const minVersion = opts.tls?.minVersion ?? "TLSv1.2";
      this.agent = new CallbackHttpsAgent((cb) => this.connectTls(ca, minVersion, connectTimeoutMs, cb), agentOpts);
    } else {
      this.agent = new CallbackHttpAgent((cb) => this.connectPlain(connectTimeoutMs, cb), agentOpts);
    }
  }

  private checked: Promise<string> | null = null;

  /** The address to connect to, resolved and checked once per session (every reconnect of this
   *  session goes to the same checked address); throws when the host is not an allowed target. */
  private resolveAllowed(): Promise<string> {
    this.checked ??= checkTransportTarget(this.opts.host, this.hostLabel, this.opts, this.opts.connectTimeoutMs ?? 10_000).then((t) => t.address);
    return this.checked;
  }

  private connectPlain(timeoutMs: number, cb: (err: Error | null, s: Duplex) => void): void {
    this.resolveAllowed().then(
      (address) => this.connectPlainTo(address, timeoutMs, cb),
      (e: unknown) => cb(e instanceof TransportError ? e : this.connectError("ENOTFOUND", e), new net.Socket()),
    );
  }

  private connectPlainTo(address: string, timeoutMs: number, cb: (err: Error | null, s: Duplex) => void): void {
    let done = false;
    const finish = (err: Error | null, s: Duplex) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cb(err, s);
    };
    const socket = net.connect({ host: address, port: this.opts.port });
    const timer = setTimeout(() => {
      socket.destroy();
      finish(this.connectError("ETIMEDOUT"), socket);
    }, timeoutMs);
    socket.once("connect", () => finish(null, socket));
    socket.once("error", (e: NodeJS.ErrnoException) => finish(this.connectError(e.code ?? e.message, e), socket));
  }

  /** Opens the TLS connection and checks the certificate (CA or pin) before handing the socket
   *  to the HTTP layer, so nothing is ever written to an unverified peer. */
  private connectTls(
    ca: Array<string | Buffer> | undefined,
    minVersion: tls.SecureVersion,
    timeoutMs: number,
    cb: (err: Error | null, s: Duplex) => void,
  ): void {
    this.resolveAllowed().then(
      (address) => this.connectTlsTo(address, ca, minVersion, timeoutMs, cb),
      (e: unknown) => cb(e instanceof TransportError ? e : this.connectError("ENOTFOUND", e), new net.Socket()),
    );
  }

  private connectTlsTo(
    address: string,
    ca: Array<string | Buffer> | undefined,
    minVersion: tls.SecureVersion,
    timeoutMs: number,
    cb: (err: Error | null, s: Duplex) => void,
  ): void {
    let done = false;
    const finish = (err: Error | null, s: Duplex) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) s.destroy();
      cb(err, s);
    };
    const servername = this.opts.tls?.serverName ?? (net.isIP(this.opts.host) ? undefined : this.opts.host);
    const legacy = minVersion === "TLSv1" || minVersion === "TLSv1.1";
    const socket = tls.connect({
      host: address,
      port: this.opts.port,
      servername,
      ca,
      minVersion,
      // OpenSSL 3 only negotiates TLS 1.0/1.1 at security level 0 (DOMAIN.md).
      ciphers: legacy ? "ALL:@SECLEVEL=0" : undefined,
      // With a pin we verify ourselves (the certificate is usually self-signed); otherwise the
      // normal CA + host name verification applies and failures abort the handshake.
      rejectUnauthorized: this.pin === null,
    });
    const timer = setTimeout(() => finish(this.connectError("ETIMEDOUT"), socket), timeoutMs);
    socket.once("secureConnect", () => {
      if (this.pin) {
        const cert = socket.getPeerX509Certificate();
        const actual = cert ? (this.pin.algorithm === "sha1" ? cert.fingerprint : cert.fingerprint256).replace(/:/g, "").toLowerCase() : "none";
        if (actual !== this.pin.hex) {
          finish(new HostKeyMismatchError(this.hostLabel, "tls-certificate", this.pin.hex.toUpperCase(), actual.toUpperCase()), socket);
          return;
        }
      } else if (!socket.authorized) {
        finish(this.certError(String(socket.authorizationError)), socket);
        return;
      }
      finish(null, socket);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_TLS_CERT/.test(e.code)) finish(this.certError(e.code, e), socket);
      else finish(this.connectError(e.code ?? e.message, e), socket);
    });
  }

  private certError(reason: string, cause?: unknown): TransportError {
    return new TransportError(
      this.hostLabel,
      `The WinRM certificate of ${this.hostLabel} is not trusted (${reason}). Nothing was sent. ` +
        `For a self-signed listener pin its thumbprint (Get-ChildItem Cert:\\LocalMachine\\My) in Settings > Hosts, or provide the issuing CA.`,
      { code: "certificate", cause },
    );
  }

  private connectError(reason: string, cause?: unknown): TransportError {
    const where = `${this.opts.transport.toUpperCase()} ${this.opts.host}:${this.opts.port}`;
    if (/protocol version|unsupported protocol|wrong version number|no protocols available|ERR_SSL_UNSUPPORTED_PROTOCOL|TLSV1_ALERT_PROTOCOL_VERSION/i.test(`${reason} ${(cause as Error | undefined)?.message ?? ""}`)) {
      return new TransportError(
        this.hostLabel,
        `WinRM on ${where} offers no TLS version we accept: the host probably still speaks only TLS 1.0/1.1 ` +
          `(the problem this tool fixes, which affects its WinRM listener too). Use WinRM over HTTP with NTLM, or allow legacy TLS for this host's management connection.`,
        { code: "connect", cause },
      );
    }
    const hint =
      reason === "ECONNREFUSED"
        ? "connection refused: is the WinRM listener enabled (winrm quickconfig) and the port open?"
        : reason === "ETIMEDOUT"
          ? "no answer: check routing and firewalls"
          : reason;
    return new TransportError(this.hostLabel, `Cannot reach WinRM on ${where} (${hint}).`, { code: "connect", cause });
  }

  /** One HTTP POST. Resolves with any status; rejects only on transport failures. */
  private send(headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    const maxBytes = this.opts.maxResponseBytes ?? 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const mod = this.secure ? https : http;
      let socket: Duplex | null = null;
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      };
      const req = mod.request({
        host: this.opts.host,
        port: this.opts.port,
        path: this.opts.path,
        method: "POST",
        agent: this.agent,
        headers: { ...headers, "Content-Length": String(body.length), "User-Agent": "tlsfleet WinRM client" },
      });
      const timer = setTimeout(() => {
        req.destroy();
        fail(new RemoteTimeoutError(this.hostLabel, timeoutMs, "A WinRM request"));
      }, timeoutMs);
      req.on("socket", (s) => (socket = s));
      req.on("error", (e: NodeJS.ErrnoException) => fail(e instanceof TransportError ? e : this.connectError(e.code ?? e.message, e)));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy();
            fail(new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a response larger than ${maxBytes} bytes; the connection was closed.`, { code: "protocol" }));
            return;
          }
          chunks.push(c);
        });
        res.on("error", (e) => fail(this.connectError(e.message, e)));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            authenticate: res.headersDistinct["www-authenticate"] ?? [],
            body: Buffer.concat(chunks),
            socket: socket!,
          });
        });
      });
      req.end(body);
    });
  }

  private basicHeader(): string {
    const a = this.opts.auth;
    return `Basic ${Buffer.from(`${a.username}:${a.password}`, "utf8").toString("base64")}`;
  }

  /** NTLM handshake on empty POSTs; leaves an authenticated keep-alive connection behind. */
  private async ntlmHandshake(timeoutMs: number): Promise<void> {
    const auth = this.opts.auth;
    if (auth.kind !== "ntlm") throw new Error("unreachable");
    this.ntlm = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const negotiate = encodeNegotiate();
      const r1 = await this.send({ Authorization: `Negotiate ${negotiate.toString("base64")}` }, Buffer.alloc(0), timeoutMs);
      const token = r1.authenticate
        .map((h) => /^(?:Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h)?.[1])
        .find((t): t is string => t !== undefined);
      if (r1.status !== 401 || !token) {
        if (r1.status === 401) {
          throw new AuthError(this.hostLabel, `WinRM does not offer Negotiate/NTLM authentication (it offers: ${sanitize(r1.authenticate.join(", ") || "nothing", 120)})`);
        }
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r1.status} to the NTLM negotiation.`, { code: "protocol" });
      }
      let result;
      try {
        const tlsSocket = r1.socket as tls.TLSSocket;
        const der = this.secure ? tlsSocket.getPeerX509Certificate?.()?.raw : undefined;
        result = createAuthenticate({ username: auth.username, password: auth.password, domain: auth.domain }, negotiate, Buffer.from(token, "base64"), {
          certificateHash: der ? certificateBindingHash(der) : undefined,
          targetSpn: `HTTP/${this.opts.host}`,
        });
      } catch (e) {
        if (e instanceof NtlmError) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent an unusable NTLM challenge: ${e.message}.`, { code: "protocol", cause: e });
        throw e;
      }
      const r2 = await this.send({ Authorization: `Negotiate ${result.authenticate.toString("base64")}` }, Buffer.alloc(0), timeoutMs);
      if (r2.socket !== r1.socket) continue; // the server closed the connection mid-handshake: start over
      if (r2.status === 401) throw new AuthError(this.hostLabel, "NTLM authentication failed (wrong user name or password, or the account may not use WinRM)");
      if (r2.status !== 200) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r2.status} to NTLM authentication.`, { code: "protocol" });
      }
      this.ntlm = { session: this.secure ? null : result.session, socket: r1.socket };
      return;
    }
    throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} kept closing the connection during NTLM authentication.`, { code: "protocol" });
  }

  private seal(session: NtlmSession, xml: Buffer): Buffer {
    const { signature, sealed } = session.seal(xml);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(signature.length);
    return Buffer.concat([
      Buffer.from(
        `--${ENCRYPTED_BOUNDARY}\r\n\tContent-Type: ${ENCRYPTED_PROTOCOL}\r\n` +
          `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${xml.length}\r\n` +
          `--${ENCRYPTED_BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n`,
        "latin1",
      ),
      len,
      signature,
      sealed,
      Buffer.from(`--${ENCRYPTED_BOUNDARY}--\r\n`, "latin1"),
    ]);
  }

  private unseal(session: NtlmSession, body: Buffer): Buffer {
    const header = body.subarray(0, Math.min(body.length, 1024)).toString("latin1");
    const m = /OriginalContent:\s*type=[^;\r\n]*;charset=UTF-8;Length=(\d{1,9})\r\n/i.exec(header);
    const marker = "Content-Type: application/octet-stream\r\n";
    const at = header.indexOf(marker, m ? m.index : 0);
    if (!m || at < 0) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a malformed encrypted message.`, { code: "protocol" });
    const length = Number(m[1]);
    const start = at + marker.length;
    if (start + 4 > body.length) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a truncated encrypted message.`, { code: "protocol" });
    const sigLen = body.readUInt32LE(start);
    if (sigLen !== 16 || start + 4 + sigLen + length > body.length) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a truncated encrypted message.`, { code: "protocol" });
    }
    const signature = body.subarray(start + 4, start + 4 + sigLen);
    const sealed = body.subarray(start + 4 + sigLen, start + 4 + sigLen + length);
    try {
      return session.unseal(signature, sealed);
    } catch (e) {
      throw new TransportError(this.hostLabel, `A WinRM message from ${this.hostLabel} failed its NTLM integrity check; the session was dropped.`, {
        code: "protocol",
        cause: e,
      });
    }
  }

  /** Sends one SOAP envelope and returns the answer's XML text (decrypted when sealed), for any
   *  HTTP status that carries SOAP (200, or 500 with a fault). */
  async post(xml: string, timeoutMs: number): Promise<{ text: string; trusted: boolean }> {
    const auth = this.opts.auth;
    const payload = Buffer.from(xml, "utf8");
    for (let attempt = 0; attempt < 2; attempt++) {
      let headers: Record<string, string>;
      let body: Buffer;
      let session: NtlmSession | null = null;
      if (auth.kind === "basic") {
        headers = { Authorization: this.basicHeader(), "Content-Type": "application/soap+xml;charset=UTF-8" };
        body = payload;
      } else {
        if (!this.ntlm || (this.ntlm.socket as net.Socket).destroyed) await this.ntlmHandshake(timeoutMs);
        session = this.ntlm!.session;
        if (session) {
          headers = { "Content-Type": `multipart/encrypted;protocol="${ENCRYPTED_PROTOCOL}";boundary="${ENCRYPTED_BOUNDARY}"` };
          body = this.seal(session, payload);
        } else {
          headers = { "Content-Type": "application/soap+xml;charset=UTF-8" };
          body = payload;
        }
      }
      const r = await this.send(headers, body, timeoutMs);
      if (r.status === 401) {
        if (auth.kind === "basic") throw new AuthError(this.hostLabel, "Basic authentication failed (wrong user name or password, or Basic is disabled in the WinRM service)");
        // The authenticated connection was replaced (server restart, idle close): authenticate
        // again once. The server did not process the message, so resending is safe.
        this.ntlm = null;
        if (attempt === 0) continue;
        throw new AuthError(this.hostLabel, "NTLM authentication was not accepted for the request");
      }
      const contentType = String(r.headers["content-type"] ?? "");
      let text: string;
      let encrypted = session !== null;
      if (/^multipart\/encrypted/i.test(contentType)) {
        if (!session) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent an encrypted answer on an unencrypted session.`, { code: "protocol" });
        text = this.unseal(session, r.body).toString("utf8");
      } else if (/^application\/soap\+xml/i.test(contentType)) {
        text = r.body.toString("utf8");
        encrypted = false;
      } else if (r.body.length === 0) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r.status} with no content.`, { code: "protocol" });
      } else {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r.status} with unexpected content (${sanitize(contentType, 80)}).`, {
          code: "protocol",
        });
      }
      if (r.status !== 200 && r.status !== 500 && r.status !== 400) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r.status}.`, { code: "protocol" });
      }
      // Over HTTP an unencrypted answer may only be a fault (which ends the operation anyway): a
      // forged success could otherwise be injected by anyone on the path. call() checks that.
      return { text, trusted: encrypted || session === null };
    }
    throw new Error("unreachable");
  }

  destroy(): void {
    this.agent.destroy();
    this.ntlm = null;
  }
}

// =============================================================================================
// The session

/** Opens a WinRM session: validates options, connects, authenticates and creates the remote
 *  cmd shell, so that credential and certificate problems surface here. */
export async function openWinRmSession(opts: WinRmOptions): Promise<RemoteSession> {
  const s = new WinRmSession(opts);
  await s.open();
  return s;
}

class WinRmSession implements RemoteSession {
  readonly kind = "winrm" as const;
  readonly remoteOs = "windows" as const;
  readonly hostLabel: string;
  private readonly http: WsmanHttp;
  private readonly endpoint: string;
  private readonly operationTimeoutSec: number;
  private readonly locale: string;
  private shellId: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: WinRmOptions) {
    const port = opts.port ?? (opts.transport === "https" ? 5986 : 5985);
    this.hostLabel = opts.hostLabel ?? `${opts.host}:${port}`;
    if (opts.auth.kind === "basic" && opts.transport !== "https") {
      throw new TransportError(
        this.hostLabel,
        `Refusing Basic authentication over plain HTTP to ${this.hostLabel}: the password would cross the network unencrypted. Use HTTPS (5986) or NTLM.`,
        { code: "config" },
      );
    }
    if (opts.transport === "http" && opts.tls) {
      throw new TransportError(this.hostLabel, `TLS options were given for ${this.hostLabel} but the transport is HTTP.`, { code: "config" });
    }
    const path = opts.path ?? "/wsman";
    const hostPart = net.isIPv6(opts.host) ? `[${opts.host}]` : opts.host;
    this.endpoint = `${opts.transport}://${hostPart}:${port}${path}`;
    this.operationTimeoutSec = opts.operationTimeoutSec ?? 20;
    this.locale = opts.locale ?? "en-US";
    this.http = new WsmanHttp({ ...opts, port, path }, this.hostLabel);
  }

  async open(): Promise<void> {
    try {
      await this.createShell(Date.now() + 60_000);
    } catch (e) {
      this.http.destroy();
      throw e;
    }
  }

  /** Sends one envelope and parses the answer. Faults come back as values, not exceptions, so
   *  the caller decides (e.g. TimedOut during Receive is normal). */
  private async call(
    action: string,
    body: string,
    deadline: number,
    extra: { shellId?: string; options?: Record<string, string>; operationTimeoutSec?: number } = {},
  ): Promise<{ env: XmlElement; fault: WsmanFault | null }> {
    const messageId = `uuid:${randomUUID().toUpperCase()}`;
    const opTimeout = extra.operationTimeoutSec ?? this.operationTimeoutSec;
    const xml = envelope({
      to: this.endpoint,
      action,
      messageId,
      operationTimeoutSec: opTimeout,
      shellId: extra.shellId,
      options: extra.options,
      body,
      locale: this.locale,
    });
    // The HTTP wait covers the server's own OperationTimeout plus transit.
    const httpTimeout = Math.max(1000, Math.min(opTimeout * 1000 + 15_000, deadline - Date.now() + 15_000));
    const { text, trusted } = await this.http.post(xml, httpTimeout);
    let env: XmlElement;
    try {
      env = parseXml(text);
    } catch (e) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent XML we cannot read (${(e as Error).message}).`, { code: "protocol", cause: e });
    }
    if (env.ns !== NS.soap || env.local !== "Envelope") {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent something other than a SOAP envelope.`, { code: "protocol" });
    }
    let fault: WsmanFault | null;
    try {
      fault = extractFault(env);
    } catch (e) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a malformed SOAP fault.`, { code: "protocol", cause: e });
    }
    if (!fault && !trusted) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered an encrypted request without encryption; refusing the answer.`, {
        code: "protocol",
      });
    }
    if (!fault) {
      // Every answer must say which request it answers (WS-Addressing RelatesTo).
      const relatesTo = xmlText(xmlChild(xmlChild(env, NS.soap, "Header"), NS.wsa, "RelatesTo")).trim();
      if (relatesTo !== messageId) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered a different request than the one sent.`, { code: "protocol" });
      }
    }
    return { env, fault };
  }

  private faultError(fault: WsmanFault, what: string): TransportError {
    if (fault.code === WSMAN_FAULT.accessDenied) {
      return new AuthError(this.hostLabel, `access denied while ${what} (the account needs to be a local administrator): ${fault.message}`);
    }
    if (fault.code === WSMAN_FAULT.shellNotFound) {
      return new TransportError(this.hostLabel, `The WinRM shell on ${this.hostLabel} no longer exists (the host may have restarted): ${fault.message}`, {
        code: "remote-fault",
      });
    }
    const code = fault.code === null ? "" : ` 0x${fault.code.toString(16).toUpperCase()}`;
    return new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} refused ${what} (fault${code}): ${fault.message}`, { code: "remote-fault" });
  }

  private async createShell(deadline: number): Promise<string> {
    const { env, fault } = await this.call(
      ACTION.create,
      `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
      deadline,
      // UTF-8 output, and no user profile load (faster, fewer side effects): [MS-WSMV] 2.2.4.38.
      { options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: "65001" } },
    );
    if (fault) throw this.faultError(fault, "creating a remote shell");
    const body = xmlChild(env, NS.soap, "Body");
    let id = xmlText(xmlChild(xmlChild(body, NS.shell, "Shell"), NS.shell, "ShellId")).trim();
    if (!id) {
      const selector = xmlChildren(xmlFind(body, NS.wsman, "SelectorSet"), NS.wsman, "Selector").find((s) => xmlAttr(s, "Name") === "ShellId");
      id = xmlText(selector).trim();
    }
    const parsed = z.string().regex(ID_PATTERN).safeParse(id);
    if (!parsed.success) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} did not return a usable shell id.`, { code: "protocol" });
    this.shellId = parsed.data;
    return parsed.data;
  }

  private async deleteShell(): Promise<void> {
    const id = this.shellId;
    this.shellId = null;
    if (!id) return;
    try {
      await this.call(ACTION.delete, "", Date.now() + 10_000, { shellId: id, operationTimeoutSec: 10 });
    } catch {
      // Best effort: the shell times out on the server anyway (IdleTimeout).
    }
  }

  private async signalTerminate(shellId: string, commandId: string): Promise<void> {
    try {
      await this.call(
        ACTION.signal,
        `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${SIGNAL_TERMINATE}</rsp:Code></rsp:Signal>`,
        Date.now() + 10_000,
        { shellId, operationTimeoutSec: 10 },
      );
    } catch {
      // Best effort; the caller reports the original problem.
    }
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const run = this.queue.then(() => this.run(argv, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    if (this.closed) throw new TransportError(this.hostLabel, `The WinRM session to ${this.hostLabel} is closed.`, { code: "connect" });
    let commandLine: string;
    try {
      commandLine = quoteWindowsCmd(argv);
    } catch (e) {
      if (e instanceof UnquotableArgumentError) {
        throw new TransportError(this.hostLabel, `Not sent to ${this.hostLabel}: ${e.message}.`, { code: "unquotable", cause: e });
      }
      throw e;
    }
    const what = `"${argv.slice(0, 2).join(" ")}"`;
    const started = Date.now();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const deadline = started + timeoutMs;
    const maxBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    if (opts.signal?.aborted) {
      throw new TransportError(this.hostLabel, `${what} on ${this.hostLabel} was cancelled before it started.`, { code: "aborted", cause: opts.signal.reason });
    }

    // Command; a shell that vanished (reboot, idle timeout) is recreated once. That is safe:
    // the command did not start.
    let shellId = this.shellId ?? (await this.createShell(deadline));
    let commandId: string | null = null;
    for (let attempt = 0; attempt < 2 && commandId === null; attempt++) {
      const { env, fault } = await this.call(
        ACTION.command,
        `<rsp:CommandLine><rsp:Command>${escapeXml(commandLine)}</rsp:Command></rsp:CommandLine>`,
        deadline,
        // WINRS_SKIP_CMD_SHELL FALSE: the line goes through cmd.exe, which quoteWindowsCmd targets.
        { shellId, options: { WINRS_CONSOLEMODE_STDIN: "TRUE", WINRS_SKIP_CMD_SHELL: "FALSE" } },
      );
      if (fault?.code === WSMAN_FAULT.shellNotFound && attempt === 0) {
        this.shellId = null;
        shellId = await this.createShell(deadline);
        continue;
      }
      if (fault) throw this.faultError(fault, `running ${what}`);
      const id = xmlText(xmlChild(xmlChild(xmlChild(env, NS.soap, "Body"), NS.shell, "CommandResponse"), NS.shell, "CommandId")).trim();
      if (!ID_PATTERN.test(id)) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} did not return a usable command id.`, { code: "protocol" });
      commandId = id;
    }
    if (commandId === null) throw new Error("unreachable");

    // stdin: the given text, then end-of-file, so nothing waits for input (reg.exe prompts
    // "Yes/No" without /f, for example).
    const stdin = Buffer.from(opts.stdin ?? "", "utf8").toString("base64");
    const sent = await this.call(
      ACTION.send,
      `<rsp:Send><rsp:Stream Name="stdin" CommandId="${escapeXml(commandId)}" End="true">${stdin}</rsp:Stream></rsp:Send>`,
      deadline,
      { shellId },
    );
    // A command that already exited may refuse its input; only faults that end the session count.
    if (sent.fault?.code === WSMAN_FAULT.accessDenied || sent.fault?.code === WSMAN_FAULT.shellNotFound) {
      throw this.faultError(sent.fault, `sending input to ${what}`);
    }

    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let exitCode: number | null = null;
    for (;;) {
      if (opts.signal?.aborted) {
        await this.signalTerminate(shellId, commandId);
        throw new TransportError(this.hostLabel, `${what} on ${this.hostLabel} was cancelled.`, { code: "aborted", cause: opts.signal.reason });
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        await this.signalTerminate(shellId, commandId);
        await this.deleteShell();
        throw new RemoteTimeoutError(this.hostLabel, timeoutMs, what);
      }
      const opTimeout = Math.max(0.5, Math.min(this.operationTimeoutSec, remaining / 1000));
      const { env, fault } = await this.call(
        ACTION.receive,
        `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
        deadline,
        { shellId, operationTimeoutSec: opTimeout },
      );
      if (fault?.code === WSMAN_FAULT.operationTimedOut) continue; // still running, no output yet
      if (fault) throw this.faultError(fault, `reading the output of ${what}`);
      let r: ReceiveResult;
      try {
        r = extractReceive(env);
      } catch (e) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a Receive answer we cannot read.`, { code: "protocol", cause: e });
      }
      for (const s of r.streams) {
        if (s.commandId.toUpperCase() !== commandId.toUpperCase()) {
          throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent output of another command.`, { code: "protocol" });
        }
        const data = Buffer.from(s.data, "base64");
        bytes += data.length;
        (s.name === "stdout" ? out : err).push(data);
      }
      if (bytes > maxBytes) {
        await this.signalTerminate(shellId, commandId);
        if ((opts.onOutputLimit ?? "error") === "error") throw new RemoteOutputLimitError(this.hostLabel, maxBytes, what);
        return { ...trimToCap(out, err, maxBytes), exitCode: null, truncated: true, durationMs: Date.now() - started };
      }
      if (r.state?.done) {
        exitCode = r.state.exitCode;
        break;
      }
    }
    // Releases the command's resources on the server ([MS-WSMV] 3.1.4.1.28).
    await this.signalTerminate(shellId, commandId);
    return {
      exitCode,
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8"),
      truncated: false,
      durationMs: Date.now() - started,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.queue;
      await this.deleteShell();
    } finally {
      this.http.destroy();
    }
  }
}

function trimToCap(out: Buffer[], err: Buffer[], cap: number): { stdout: string; stderr: string } {
  const o = Buffer.concat(out);
  const e = Buffer.concat(err);
  const keepOut = o.subarray(0, Math.min(o.length, cap));
  const keepErr = e.subarray(0, Math.max(0, Math.min(e.length, cap - keepOut.length)));
  // A cut may split a UTF-8 sequence; the decoder turns the tail into U+FFFD, which is honest.
  return { stdout: keepOut.toString("utf8"), stderr: keepErr.toString("utf8") };
}
