import { describe, expect, it } from "vitest";
import { evaluateHostStatus, isDrift, nextStatusTimes, type ConfigEvidence, type HostStatusValue, type WireEvidence } from "./status";

const now = new Date("2026-11-28T12:00:00Z");
const at = new Date("2026-11-28T10:02:00Z");

type P = WireEvidence["protocols"];
const legacyOpen: P = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" };
const modern: P = { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };
const legacyOnly: P = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "rejected", "TLSv1.3": "rejected" };
const allUnknown: P = { TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "unknown", "TLSv1.3": "unknown" };

const wire = (port: number, service: string, verdict: WireEvidence["verdict"], protocols: P, error: string | null = null): WireEvidence => ({ port, service, probedAt: at, verdict, protocols, error });
const cfg = (o: Partial<ConfigEvidence>): ConfigEvidence => ({ playbook: "windows-schannel", takenAt: at, legacyEnabled: false, tls12Enabled: true, rebootPending: false, summary: "TLS 1.2 Server: Enabled=1, DisabledByDefault=0", ...o });
const exception = (o: Partial<{ endpointPort: number | null; version: string | null; expiresAt: Date; approved: boolean }> = {}) => ({ endpointPort: null, version: null, expiresAt: new Date("2027-01-01T00:00:00Z"), approved: true, justification: "vendor appliance, replacement ordered", ...o });

const cases: Array<[string, Parameters<typeof evaluateHostStatus>[0], HostStatusValue, RegExp]> = [
  ["never scanned", { wire: [], config: [], exceptions: [], now }, "unknown", /Never scanned/],
  ["modern on every endpoint", { wire: [wire(25, "smtp", "compliant", modern), wire(587, "submission", "compliant", modern)], config: [], exceptions: [], now }, "compliant", /rejected and TLS 1.2\+ accepted on 25\/smtp, 587\/submission at 2026-11-28 10:02 UTC/],
  ["TLS 1.0 accepted on smtp", { wire: [wire(25, "smtp", "noncompliant", legacyOpen), wire(587, "submission", "compliant", modern)], config: [], exceptions: [], now }, "noncompliant", /^TLS 1.0 and TLS 1.1 accepted on 25\/smtp at 2026-11-28 10:02 UTC$/],
  ["no TLS 1.2: mail flow at risk wins over legacy", { wire: [wire(25, "smtp", "at_risk", legacyOnly)], config: [], exceptions: [], now }, "at_risk", /TLS 1.2 not accepted on 25\/smtp.*Microsoft 365/],
  ["STARTTLS not offered", { wire: [wire(25, "smtp", "no-tls", allUnknown)], config: [], exceptions: [], now }, "at_risk", /STARTTLS not offered on 25\/smtp.*451 5.7.3/],
  ["unreachable is never compliant", { wire: [wire(25, "smtp", "unreachable", allUnknown, "connect ETIMEDOUT")], config: [], exceptions: [], now }, "unreachable", /25\/smtp unreachable .*ETIMEDOUT/],
  ["one endpoint down, other fine: still cannot say compliant", { wire: [wire(25, "smtp", "unreachable", allUnknown), wire(587, "submission", "compliant", modern)], config: [], exceptions: [], now }, "unreachable", /1 other endpoint/],
  ["one endpoint down, other legacy: the finding counts", { wire: [wire(25, "smtp", "unreachable", allUnknown), wire(587, "submission", "noncompliant", legacyOpen)], config: [], exceptions: [], now }, "noncompliant", /587\/submission/],
  ["all unknown", { wire: [wire(443, "https", "error", allUnknown, "handshake timed out")], config: [], exceptions: [], now }, "error", /No conclusive handshake on 443\/https/],
  ["registry fixed, reboot pending, wire still legacy", { wire: [wire(25, "smtp", "at_risk", legacyOnly)], config: [cfg({ rebootPending: true })], exceptions: [], now }, "pending_reboot", /not effective until reboot/],
  ["registry fixed, no reboot pending, wire still legacy", { wire: [wire(25, "smtp", "noncompliant", legacyOpen)], config: [cfg({})], exceptions: [], now }, "mismatch", /Config says fixed .* but TLS 1.0 and TLS 1.1 accepted/],
  ["config enables legacy but wire rejects it", { wire: [wire(25, "smtp", "compliant", modern)], config: [cfg({ legacyEnabled: true, summary: "TLS 1.0 Server: Enabled=1" })], exceptions: [], now }, "mismatch", /Config enables legacy TLS \(TLS 1.0 Server: Enabled=1\)/],
  ["config alone enabling legacy", { wire: [], config: [cfg({ legacyEnabled: true, summary: "smtpd_tls_protocols = >=TLSv1" })], exceptions: [], now }, "noncompliant", /smtpd_tls_protocols = >=TLSv1/],
  ["config alone disabling TLS 1.2", { wire: [], config: [cfg({ tls12Enabled: false, summary: "TLS 1.2 Server: Enabled=0" })], exceptions: [], now }, "at_risk", /TLS 1.2 disabled in config/],
  ["config and wire agree on compliant", { wire: [wire(25, "smtp", "compliant", modern)], config: [cfg({})], exceptions: [], now }, "compliant", /25\/smtp/],
  ["approved unexpired exception covers the finding", { wire: [wire(25, "smtp", "noncompliant", legacyOpen)], config: [], exceptions: [exception({ endpointPort: 25 })], now }, "excepted", /excepted until 2027-01-01 00:00 UTC: vendor appliance/],
  ["expired exception does not", { wire: [wire(25, "smtp", "noncompliant", legacyOpen)], config: [], exceptions: [exception({ expiresAt: new Date("2026-11-01T00:00:00Z") })], now }, "noncompliant", /TLS 1.0/],
  ["unapproved exception does not", { wire: [wire(25, "smtp", "noncompliant", legacyOpen)], config: [], exceptions: [exception({ approved: false })], now }, "noncompliant", /TLS 1.0/],
  ["exception for another port does not", { wire: [wire(25, "smtp", "noncompliant", legacyOpen)], config: [], exceptions: [exception({ endpointPort: 587 })], now }, "noncompliant", /TLS 1.0/],
];

describe("evaluateHostStatus", () => {
  it.each(cases)("%s -> %s", (_name, evidence, status, explanation) => {
    const result = evaluateHostStatus(evidence);
    expect(result.status).toBe(status);
    expect(result.explanation).toMatch(explanation);
  });
});

describe("status timestamps", () => {
  const earlier = new Date("2026-11-20T00:00:00Z");
  it("starts the failing clock when a host starts failing", () => {
    expect(nextStatusTimes({ status: "compliant", firstFailingAt: null, lastChangedAt: earlier }, "noncompliant", now)).toEqual({ changed: true, lastChangedAt: now, firstFailingAt: now });
  });
  it("keeps the failing clock while the host keeps failing, even when the kind of failure changes", () => {
    expect(nextStatusTimes({ status: "noncompliant", firstFailingAt: earlier, lastChangedAt: earlier }, "at_risk", now)).toEqual({ changed: true, lastChangedAt: now, firstFailingAt: earlier });
  });
  it("unchanged status keeps lastChangedAt", () => {
    expect(nextStatusTimes({ status: "noncompliant", firstFailingAt: earlier, lastChangedAt: earlier }, "noncompliant", now)).toEqual({ changed: false, lastChangedAt: earlier, firstFailingAt: earlier });
  });
  it("clears the failing clock once fixed", () => {
    expect(nextStatusTimes({ status: "noncompliant", firstFailingAt: earlier, lastChangedAt: earlier }, "compliant", now).firstFailingAt).toBeNull();
  });
  it.each([
    ["compliant", "noncompliant", true],
    ["compliant", "unreachable", false],
    ["noncompliant", "at_risk", false],
    [null, "noncompliant", false],
  ] as const)("drift %s -> %s = %s", (prev, next, drift) => {
    expect(isDrift(prev, next)).toBe(drift);
  });
});
