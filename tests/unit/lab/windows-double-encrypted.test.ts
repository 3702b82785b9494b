import { describe, expect, it } from "vitest";
import { decryptMessage, encryptedContentType, encryptMessage, type MessageSealer } from "../../lab/windows-double/encrypted-message";

// A stand-in for the NTLM session: "seals" by reversing the bytes, signs with 16 fixed bytes and
// refuses any other signature, so framing is tested apart from the cryptography.
const SIGNATURE = Buffer.alloc(16, 0xab);
const sealer: MessageSealer = {
  seal: (plain) => ({ signature: SIGNATURE, sealed: Buffer.from(plain).reverse() }),
  unseal: (signature, sealed) => {
    if (!signature.equals(SIGNATURE)) throw new Error("bad signature");
    return Buffer.from(sealed).reverse();
  },
};
const SOAP = Buffer.from('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>', "utf8");

// The body as [MS-WSMV] 2.2.9.1.1 lays it out, written out byte by byte.
function specBody(opts: { boundary?: string; length?: number; trailer?: string; signatureLength?: number } = {}): Buffer {
  const b = opts.boundary ?? "Encrypted Boundary";
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(opts.signatureLength ?? 16);
  return Buffer.concat([
    Buffer.from(
      `--${b}\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${opts.length ?? SOAP.length}\r\n` +
        `--${b}\r\n\tContent-Type: application/octet-stream\r\n`,
      "latin1",
    ),
    lengthField,
    SIGNATURE,
    Buffer.from(SOAP).reverse(),
    Buffer.from(opts.trailer ?? `--${b}--\r\n`, "latin1"),
  ]);
}

describe("windows double: WinRM encrypted message framing", () => {
  it("writes the layout of MS-WSMV 2.2.9.1.1 and reads it back", () => {
    expect(encryptMessage(sealer, SOAP)).toEqual(specBody());
    expect(decryptMessage(sealer, encryptedContentType, specBody())?.equals(SOAP)).toBe(true);
  });

  it("takes the boundary from the request's Content-Type", () => {
    const contentType = 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Other Boundary"';
    expect(decryptMessage(sealer, contentType, specBody({ boundary: "Other Boundary" }))?.equals(SOAP)).toBe(true);
    expect(decryptMessage(sealer, encryptedContentType, specBody({ boundary: "Other Boundary" }))).toBeNull();
  });

  it("refuses a wrong protocol, a wrong Length, a short signature, a missing trailer or a bad seal", () => {
    expect(decryptMessage(sealer, 'multipart/encrypted;protocol="application/HTTP-Kerberos-session-encrypted";boundary="Encrypted Boundary"', specBody())).toBeNull();
    expect(decryptMessage(sealer, encryptedContentType, specBody({ length: SOAP.length + 1 }))).toBeNull();
    expect(decryptMessage(sealer, encryptedContentType, specBody({ length: SOAP.length - 1 }))).toBeNull();
    expect(decryptMessage(sealer, encryptedContentType, specBody({ signatureLength: 8 }))).toBeNull();
    expect(decryptMessage(sealer, encryptedContentType, specBody({ trailer: "" }))).toBeNull();
    const tampered = specBody();
    tampered[tampered.indexOf(SIGNATURE)] ^= 1;
    expect(decryptMessage(sealer, encryptedContentType, tampered)).toBeNull();
  });
});
