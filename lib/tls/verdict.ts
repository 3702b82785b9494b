import type { Outcome, StartTlsState, TlsVersion, Verdict } from "./types";

export interface VerdictEvidence {
  /** A TCP connection was made and, for STARTTLS services, the greeting arrived in time. */
  reachable: boolean;
  starttls: StartTlsState;
  protocols: Record<TlsVersion, Outcome>;
}

/**
 * The endpoint verdict exactly as docs/architecture.md "The probe's verdict" lists it: first match wins.
 * Unknown outcomes never count as rejected, so a peer that only timed out can never look compliant.
 */
export function decideVerdict(evidence: VerdictEvidence): Verdict {
  const p = evidence.protocols;
  if (!evidence.reachable) return "unreachable";
  if (evidence.starttls === "not-offered") return "no-tls";
  const outcomes = [p["TLSv1"], p["TLSv1.1"], p["TLSv1.2"], p["TLSv1.3"]];
  if (outcomes.every((o) => o === "unknown")) return "error";
  // Microsoft 365 mail flow needs TLS 1.2 or later, whatever else the server speaks.
  if (p["TLSv1.2"] !== "accepted" && p["TLSv1.3"] !== "accepted") return "at_risk";
  if (p["TLSv1"] === "accepted" || p["TLSv1.1"] === "accepted") return "noncompliant";
  if (p["TLSv1"] === "rejected" && p["TLSv1.1"] === "rejected") return "compliant";
  return "error";
}
