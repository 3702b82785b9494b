// TEST DOUBLE: WinRM's encrypted message body over HTTP, read and written from [MS-WSMV]
// 2.2.9.1.1 (not from the client in agents/transport, which this checks).
//
// The HTTP Content-Type is multipart/encrypted with a protocol and a boundary parameter
// (2.2.9.1.1.1). The body is two MIME-like parts, each opened by "--" boundary CRLF and
// followed by header fields written as HT name ":" SP value CRLF:
//   1. Content-Type: the protocol; OriginalContent: type=...;charset=...;Length=N, where N is
//      the length of the plain SOAP envelope (2.2.9.1.1.2.1);
//   2. Content-Type: application/octet-stream, then at once (no blank line) a 32-bit
//      little-endian Length-Field, that many bytes of encryption header (for NTLM its message
//      signature, [MS-NLMP] 2.2.2.9.1: 16 bytes) and the N encrypted bytes (2.2.9.1.1.2.2).
// The body closes with "--" boundary "--" CRLF.

export const SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted";
const SOAP_TYPE = "application/soap+xml";
const OCTET_STREAM = "application/octet-stream";
const BOUNDARY = "Encrypted Boundary";
const NTLM_SIGNATURE_BYTES = 16;

/** What the NTLM session of a connection does to one message (sealing and its signature). */
export interface MessageSealer {
  seal(plain: Buffer): { signature: Buffer; sealed: Buffer };
  unseal(signature: Buffer, sealed: Buffer): Buffer;
}

/** `a=1;b="x y"` (after the media type) as a map with lower-case names. */
function parameters(list: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of list.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const value = part.slice(eq + 1).trim();
    out.set(part.slice(0, eq).trim().toLowerCase(), value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value);
  }
  return out;
}

/** The Content-Type of an encrypted answer. */
export const encryptedContentType = `multipart/encrypted;protocol="${SPNEGO_ENCRYPTED}";boundary="${BOUNDARY}"`;

/** True when an HTTP Content-Type announces an encrypted message at all. */
export function isEncrypted(contentType: string): boolean {
  return contentType.split(";")[0]!.trim().toLowerCase() === "multipart/encrypted";
}

export function encryptMessage(sealer: MessageSealer, soap: Buffer): Buffer {
  const { signature, sealed } = sealer.seal(soap);
  const part = (fields: Array<[string, string]>) => `--${BOUNDARY}\r\n${fields.map(([name, value]) => `\t${name}: ${value}\r\n`).join("")}`;
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(signature.length, 0);
  const control = part([
    ["Content-Type", SPNEGO_ENCRYPTED],
    ["OriginalContent", `type=${SOAP_TYPE};charset=UTF-8;Length=${soap.length}`],
  ]);
  const data = part([["Content-Type", OCTET_STREAM]]);
  return Buffer.concat([Buffer.from(control + data, "latin1"), lengthField, signature, sealed, Buffer.from(`--${BOUNDARY}--\r\n`, "latin1")]);
}

/** The plain SOAP of an encrypted request, or null when its framing or its seal is wrong. */
export function decryptMessage(sealer: MessageSealer, contentType: string, body: Buffer): Buffer | null {
  const header = parameters(contentType.slice(contentType.indexOf(";") + 1));
  const boundary = header.get("boundary");
  if (!isEncrypted(contentType) || header.get("protocol") !== SPNEGO_ENCRYPTED || !boundary) return null;

  let at = 0;
  const line = (): string | null => {
    const end = body.indexOf("\r\n", at, "latin1");
    if (end < 0) return null;
    const text = body.toString("latin1", at, end);
    at = end + 2;
    return text;
  };
  /** The HT-led header fields of the part that starts here, by lower-case name. */
  const fields = (): Map<string, string> | null => {
    const out = new Map<string, string>();
    while (body[at] === 0x09) {
      const text = line();
      const colon = text?.indexOf(":") ?? -1;
      if (text === null || colon < 0) return null;
      out.set(text.slice(1, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
    }
    return out;
  };

  if (line() !== `--${boundary}`) return null;
  const control = fields();
  if (control?.get("content-type") !== SPNEGO_ENCRYPTED) return null;
  const original = parameters(control.get("originalcontent") ?? "");
  const length = original.get("length") ?? "";
  if (original.get("type") !== SOAP_TYPE || original.get("charset")?.toUpperCase() !== "UTF-8" || !/^\d{1,9}$/.test(length)) return null;

  if (line() !== `--${boundary}`) return null;
  if (fields()?.get("content-type") !== OCTET_STREAM) return null;
  if (at + 4 > body.length || body.readUInt32LE(at) !== NTLM_SIGNATURE_BYTES) return null;
  const signature = body.subarray(at + 4, at + 4 + NTLM_SIGNATURE_BYTES);
  const sealed = body.subarray(at + 4 + NTLM_SIGNATURE_BYTES, at + 4 + NTLM_SIGNATURE_BYTES + Number(length));
  at += 4 + NTLM_SIGNATURE_BYTES + sealed.length;
  if (sealed.length !== Number(length) || body.toString("latin1", at) !== `--${boundary}--\r\n`) return null;
  try {
    return sealer.unseal(signature, sealed);
  } catch {
    return null;
  }
}
