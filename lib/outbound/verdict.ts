// What one host's outbound check found, from the sink's records of the connections the host
// made (pure). The sink, like Microsoft 365, needs TLS 1.2 or newer, so:
// - a negotiated version: the host's mail client can reach Microsoft 365 over TLS;
// - STARTTLS with a refused handshake: it offered only older versions (the 421 4.4.2 NDR);
// - no STARTTLS at all: it sends in the clear, which Microsoft 365 refuses (451 5.7.3);
// - no connection: the check proves nothing either way.
import type { WireEvidence } from "../compliance/status";
import { formatUtc } from "../time";
import { protocolLabel, type TlsVersion } from "../tls/types";

export type OutboundOutcome = "negotiated" | "refused" | "no_starttls" | "no_connection";

export interface ObservedConnection {
  at: Date;
  startTls: boolean;
  offeredHighest: string | null;
  offeredVersions: string[];
  offeredListed: boolean;
  negotiated: string | null;
  failure: string | null;
  messages: number;
}

export interface OutboundVerdict {
  outcome: OutboundOutcome;
  negotiated: TlsVersion | null;
  offered: string[];
  detail: string;
}

function describeOffer(c: ObservedConnection): string {
  if (c.offeredListed && c.offeredVersions.length > 0) return `only ${c.offeredVersions.map(protocolLabel).join(", ")}`;
  return c.offeredHighest ? `nothing above ${protocolLabel(c.offeredHighest)}` : "no readable ClientHello";
}

/** Postfix's reasons for not connecting; a Windows check passes what the host itself reported. */
const POSTFIX_NO_CONNECTION_HINT = "can it reach that address on port 25? is its mail queue running?";

export function outboundVerdict(connections: readonly ObservedConnection[], sink: string, waitedSeconds: number, noConnectionHint = POSTFIX_NO_CONNECTION_HINT): OutboundVerdict {
  const tls = connections.filter((c) => c.negotiated);
  if (tls.length > 0) {
    const best = tls.reduce((a, b) => ((a.negotiated ?? "") >= (b.negotiated ?? "") ? a : b));
    const version = best.negotiated as TlsVersion;
    return { outcome: "negotiated", negotiated: version, offered: best.offeredVersions, detail: `outbound ${protocolLabel(version)} negotiated with the check sink ${sink} at ${formatUtc(best.at)}` };
  }
  const refused = connections.find((c) => c.startTls);
  const clear = connections.find((c) => !c.startTls);
  if (refused) {
    const fallback = clear ? "; it then sent without TLS, which Microsoft 365 refuses (451 5.7.3)" : "";
    return {
      outcome: "refused",
      negotiated: null,
      offered: refused.offeredVersions.length ? refused.offeredVersions : refused.offeredHighest ? [refused.offeredHighest] : [],
      detail: `outbound: the host offered ${describeOffer(refused)} to the check sink ${sink} at ${formatUtc(refused.at)}; Microsoft 365 needs TLS 1.2, so mail to it fails (421 4.4.2)${fallback}`,
    };
  }
  if (clear) {
    return { outcome: "no_starttls", negotiated: null, offered: [], detail: `outbound: the host sent to the check sink ${sink} without STARTTLS at ${formatUtc(clear.at)}; Microsoft 365 answers 451 5.7.3 Must issue a STARTTLS command first` };
  }
  return { outcome: "no_connection", negotiated: null, offered: [], detail: `outbound: the host did not connect to the check sink ${sink} within ${waitedSeconds} s (${noConnectionHint})` };
}

/** True when the outcome is final: no later connection of the same check can change it. */
export function outboundSettled(connections: readonly ObservedConnection[]): boolean {
  return connections.some((c) => c.negotiated !== null && c.messages > 0) || (connections.some((c) => c.startTls && !c.negotiated) && connections.some((c) => !c.startTls));
}

/**
 * An outbound check as wire evidence of the outbound direction for host status: what the host's
 * mail client negotiated with a server that takes TLS 1.2+ only (lib/compliance/status.ts). The
 * versions it was not seen to use stay unknown: offering TLS 1.0 besides 1.2 harms nobody in this
 * direction. No connection proves nothing and is left out.
 */
export function outboundWireEvidence(check: { checkedAt: Date; outcome: string; negotiated: string | null }): WireEvidence | null {
  const unknown = { TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "unknown", "TLSv1.3": "unknown" } as WireEvidence["protocols"];
  const base = { port: 25, service: "smtp", probedAt: check.checkedAt, direction: "outbound" as const };
  if (check.outcome === "negotiated" && (check.negotiated === "TLSv1.2" || check.negotiated === "TLSv1.3")) {
    return { ...base, verdict: "compliant", protocols: { ...unknown, [check.negotiated]: "accepted" } };
  }
  if (check.outcome === "refused") return { ...base, verdict: "at_risk", protocols: { ...unknown, "TLSv1.2": "rejected", "TLSv1.3": "rejected" } };
  if (check.outcome === "no_starttls") return { ...base, verdict: "no-tls", protocols: unknown };
  return null;
}
