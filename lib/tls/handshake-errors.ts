import type { Outcome } from "./types";

export interface HandshakeClassification {
  outcome: Outcome;
  /** Short operator-facing cause: an alert name ("protocol_version"), "reset", "garbage (...)", ... */
  reason: string;
}

// Alerts with which a server says "not this version": testssl.sh, sslyze and nmap all read them as
// "not offered". insufficient_security is what a server sends when nothing we offer at that version
// meets its floor, which for an audit means the version cannot be negotiated either.
export const REJECTING_ALERTS: ReadonlySet<string> = new Set(["protocol_version", "handshake_failure", "insufficient_security"]);

const ALERT_CODE = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/;

/**
 * Turns whatever Node reports for a failed handshake into accepted/rejected/unknown.
 * The rule that matters: only a positive "no" from the peer is "rejected". A close, a reset, a
 * timeout or bytes that are not TLS prove nothing about the version, so they stay "unknown"
 * (sslyze counts a timeout as rejected, a known source of false "compliant" findings).
 */
export function classifyHandshakeError(error: unknown): HandshakeClassification {
  const code = errorCode(error);
  const alert = ALERT_CODE.exec(code);
  if (alert) {
    const name = alert[1]!.toLowerCase();
    return { outcome: REJECTING_ALERTS.has(name) ? "rejected" : "unknown", reason: name };
  }
  switch (code) {
    // OpenSSL raises this on our side when the ServerHello names another version than the one
    // we pinned with min=max: the server picked something else, so this version is not offered.
    case "ERR_SSL_UNSUPPORTED_PROTOCOL":
      return { outcome: "rejected", reason: "unsupported_protocol" };
    case "ERR_SSL_NO_PROTOCOLS_AVAILABLE":
      return { outcome: "rejected", reason: "no_protocols_available" };
    // On the first record OpenSSL only says this when the bytes do not look like TLS at all
    // (the classic case: a plaintext "220 ..." on a port we took for implicit TLS).
    case "ERR_SSL_WRONG_VERSION_NUMBER":
      return { outcome: "unknown", reason: "garbage (wrong version number)" };
    case "ECONNRESET":
    case "EPIPE":
      return { outcome: "unknown", reason: isCleanCloseMessage(error) ? "closed" : "reset" };
    case "ETIMEDOUT":
      return { outcome: "unknown", reason: "timeout" };
    default:
      break;
  }
  if (code.startsWith("ERR_SSL_")) {
    return { outcome: "unknown", reason: `garbage (${sslReasonText(error, code)})` };
  }
  return { outcome: "unknown", reason: code ? code.toLowerCase() : "handshake failed" };
}

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return "";
}

// Node reports a FIN before the handshake finished as ECONNRESET with this message; a real RST
// comes as "read ECONNRESET". Operators debug these differently (idle close vs. firewall reset).
function isCleanCloseMessage(error: unknown): boolean {
  return error instanceof Error && error.message.includes("disconnected before secure TLS connection");
}

function sslReasonText(error: unknown, code: string): string {
  if (typeof error === "object" && error !== null && "reason" in error) {
    const reason = (error as { reason: unknown }).reason;
    if (typeof reason === "string" && reason) return reason;
  }
  return code.slice("ERR_SSL_".length).toLowerCase().replace(/_/g, " ");
}
