import type { Outcome, TlsVersion } from "./types";

/** What the probe concluded for one version, before the silent-close rule is applied. */
export interface VersionFinding {
  outcome: Outcome;
  reason: string | null;
  /**
   * The last attempt ended with a clean close or a reset and not one byte from the server after
   * our ClientHello. A timeout or a stall never sets this.
   */
  silentClose?: boolean;
}

export const SILENT_CLOSE_REASON = "closed without alert after ClientHello";

/**
 * Dovecot 2.3 (ssl_min_protocol) and other OpenSSL servers that fail SSL_accept() on a version
 * they do not allow hang up without a protocol_version alert (Dovecot logs "SSL_accept() failed:
 * ... unsupported protocol"). testssl.sh, sslyze, nmap and sslscan read that close as "not
 * offered" (docs/domain.md "Probing what a server really negotiates"). A close is only evidence when the same endpoint spoke TLS at
 * another version in this probe (a completed handshake, or in hello mode a well-formed ServerHello
 * for the version a hello offered): then the server demonstrably speaks TLS right there, and
 * hanging up on this version (twice, after the retry) is its answer. Without that, a close is what
 * a broken STARTTLS implementation, a middlebox or a crashing server does too, and it stays
 * unknown (docs/architecture.md "The probe's verdict": a close or stall after STARTTLS gives unknown).
 *
 * `handshakeCompleted` lists the versions at which the server spoke TLS so in this probe.
 */
export function applySilentCloseRule(
  findings: ReadonlyMap<TlsVersion, VersionFinding>,
  handshakeCompleted: ReadonlySet<TlsVersion>,
): Map<TlsVersion, VersionFinding> {
  const settled = new Map<TlsVersion, VersionFinding>();
  for (const [version, finding] of findings) {
    const speaksTlsElsewhere = [...handshakeCompleted].some((other) => other !== version);
    if (finding.outcome === "unknown" && finding.silentClose === true && speaksTlsElsewhere) {
      settled.set(version, { outcome: "rejected", reason: SILENT_CLOSE_REASON });
    } else {
      settled.set(version, finding);
    }
  }
  return settled;
}
