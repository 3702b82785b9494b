// WS-Management (DMTF DSP0226) SOAP envelopes for Microsoft's Windows Remote Shell ([MS-WSMV]):
// the namespaces and actions, the request envelope, and reading faults and Receive answers.

import { z } from "zod";
import { escapeXml, XML_NAMESPACE, xmlAttr, xmlChild, xmlChildren, xmlFind, xmlText, XmlError, type XmlElement } from "./xml";

export const NS = {
  soap: "http://www.w3.org/2003/05/soap-envelope",
  wsa: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  wsman: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  msWsman: "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
  shell: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
  wsmanFault: "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
  transfer: "http://schemas.xmlsoap.org/ws/2004/09/transfer",
  xml: XML_NAMESPACE,
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

export function envelope(p: EnvelopeParams): string {
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
export function sanitize(s: string, max = 400): string {
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

export const ID_PATTERN = /^[A-Za-z0-9{}-]{1,80}$/;
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
