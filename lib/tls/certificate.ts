// Any address outside loopback and the lab named in this file's comments is an example, never dialled.
import type { X509Certificate } from "node:crypto";
import type { CertificateSummary } from "./types";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * OpenSSL prints validity as "Jan  1 00:00:00 2027 GMT" (ASN1_TIME_print). Parsed by hand because
 * Date's parsing of that format is implementation-defined. Output has no milliseconds, like the
 * CLI contract's example ("2027-01-01T00:00:00Z").
 */
export function opensslTimeToIso(text: string): string {
  const match = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s+(\d{4})\s+GMT$/.exec(text.trim());
  const month = match ? MONTHS.indexOf(match[1]!) : -1;
  if (!match || month < 0) {
    const fallback = Date.parse(text);
    return Number.isNaN(fallback) ? text : new Date(fallback).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  const [, , day, hours, minutes, seconds, year] = match;
  const ms = Date.UTC(Number(year), month, Number(day), Number(hours), Number(minutes), Number(seconds));
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** "CN=mx1\nO=Example" (Node's one-attribute-per-line form) as "CN=mx1, O=Example". */
export function distinguishedName(text: string): string {
  return text
    .split("\n")
    .map((part) => part.trim())
    .filter(Boolean)
    .join(", ");
}

/**
 * Node prints subjectAltName as "DNS:a, DNS:b, IP Address:1.2.3.4", quoting entries that contain
 * ", " themselves (since Node 17), so split only on separators outside quotes.
 */
export function splitSubjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const names: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' && text[i - 1] !== "\\") quoted = !quoted;
    if (!quoted && c === "," && text[i + 1] === " ") {
      names.push(current);
      current = "";
      i++;
      continue;
    }
    current += c;
  }
  if (current) names.push(current);
  return names;
}

export function summarizeCertificate(certificate: X509Certificate): CertificateSummary {
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    san: splitSubjectAltNames(certificate.subjectAltName),
    notBefore: opensslTimeToIso(certificate.validFrom),
    notAfter: opensslTimeToIso(certificate.validTo),
  };
}
