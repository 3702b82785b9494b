// What the WinRM client checks and binds of the listener's certificate: the pinned thumbprint,
// and the RFC 5929 tls-server-end-point hash NTLM carries as channel binding over HTTPS.

import { createHash } from "node:crypto";

export function normalizeThumbprint(t: string): { algorithm: "sha1" | "sha256"; hex: string } | null {
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
