// Public types of the wire prober. The CLI's --json output is exactly ProbeReport minus
// nothing: see docs/architecture.md "The probe's verdict".

export const SERVICES = ["smtp", "submission", "smtps", "https", "imap", "imaps", "pop3", "pop3s", "ldaps", "tls"] as const;
export type Service = (typeof SERVICES)[number];

export const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** How a version is written for people; TlsVersion is OpenSSL's name for it. */
export const TLS_VERSION_LABEL: Record<TlsVersion, string> = { TLSv1: "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3" };

const PROTOCOL_LABEL: Readonly<Record<string, string>> = { SSLv3: "SSL 3.0", ...TLS_VERSION_LABEL };

/** The label of a protocol name a peer reported (an outbound client may offer SSLv3 too); a name it does not know, as it is. */
export function protocolLabel(name: string): string {
  return Object.hasOwn(PROTOCOL_LABEL, name) ? PROTOCOL_LABEL[name]! : name;
}

export type Outcome = "accepted" | "rejected" | "unknown";
export type StartTlsState = "offered" | "not-offered" | "not-applicable";
export type Verdict = "unreachable" | "no-tls" | "error" | "at_risk" | "noncompliant" | "compliant";

export interface ProbeTarget {
  host: string;
  port: number;
  service?: Service;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  san: string[];
  notBefore: string; // ISO 8601
  notAfter: string; // ISO 8601
}

export interface ProbeReport {
  target: string; // "host:port"
  service: Service;
  starttls: StartTlsState;
  protocols: Record<TlsVersion, Outcome>;
  /**
   * Why each outcome was reached (null when accepted): a TLS alert name ("protocol_version",
   * "handshake_failure"), "unsupported_protocol" (ServerHello of another version), "reset",
   * "closed", "timeout", "deadline", "garbage (...)", or the dialog step that failed. One
   * accepted outcome has a reason: TLS 1.3 proven in hello mode by the TLS 1.2 ServerHello's
   * downgrade sentinel, with no 1.3 connection (version-schedule.ts TLS13_FROM_SENTINEL).
   */
  reasons: Record<TlsVersion, string | null>;
  /** Node's OpenSSL cannot offer these at all: never "rejected", always "not tested". */
  notTested: string[];
  verdict: Verdict;
  /** OpenSSL's name of the suite negotiated per accepted version; none for a TLS 1.3 proven by the sentinel. */
  cipher: Partial<Record<TlsVersion, string>>;
  certificate: CertificateSummary | null;
  error: string | null;
  durationMs: number;
  /** The address actually probed (the host name resolved once per endpoint), null when never resolved. */
  address?: string | null;
}
