// WinRM client: WS-Management (DMTF DSP0226) with Microsoft's Windows Remote Shell protocol
// ([MS-WSMV]) over HTTPS (5986) or HTTP (5985), as a RemoteSession.
//
// Where it lives: xml.ts (the bounded XML parser), soap.ts (envelopes, faults, Receive answers),
// certificate.ts (thumbprint pins, channel binding), http.ts (connections, Basic/NTLM
// authentication, certificate checks, sealing), shell.ts (the session: the shell's lifecycle,
// commands, output). The public surface is this file.

export { certificateBindingHash } from "./certificate";
export type { WinRmAuth, WinRmOptions, WinRmTlsOptions } from "./http";
export { openWinRmSession } from "./shell";
export {
  ACTION,
  CMD_SHELL_URI,
  COMMAND_STATE_DONE,
  extractFault,
  extractReceive,
  NS,
  SIGNAL_TERMINATE,
  WSMAN_FAULT,
  type ReceiveResult,
  type WsmanFault,
} from "./soap";
export { escapeXml, parseXml, xmlAttr, xmlChild, xmlChildren, xmlFind, xmlText, XmlError, type XmlAttr, type XmlElement, type XmlLimits } from "./xml";
