import { describe, expect, it } from "vitest";
import { directionVerdicts, evaluateHostStatus, isDrift, nextStatusTimes, type ConfigEvidence, type ConfigSide, type HostStatusValue, type WireEvidence } from "./status";

const now = new Date("2026-11-28T12:00:00Z");
const at = new Date("2026-11-28T10:02:00Z");

type P = WireEvidence["protocols"];
const legacyOpen: P = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" };
const modern: P = { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };
const legacyOnly: P = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "rejected", "TLSv1.3": "rejected" };
const tls10AndModern: P = { TLSv1: "accepted", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };
const allUnknown: P = { TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "unknown", "TLSv1.3": "unknown" };

const wire = (port: number, service: string, verdict: WireEvidence["verdict"], protocols: P, error: string | null = null): WireEvidence => ({ port, service, probedAt: at, verdict, protocols, error });
const side = (direction: ConfigSide["direction"], o: Partial<ConfigSide> = {}): ConfigSide => ({ direction, legacyEnabled: false, tls12Enabled: true, summary: direction === "inbound" ? "SCHANNEL TLS 1.0/1.1 Server disabled, TLS 1.2 Server enabled" : "SCHANNEL TLS 1.0/1.1 Client disabled, TLS 1.2 Client enabled", ...o });
/** A snapshot with both directions fine unless overridden. */
const cfg = (o: { inbound?: Partial<ConfigSide> | null; outbound?: Partial<ConfigSide> | null; playbook?: string; rebootPending?: boolean; prerequisites?: string[] } = {}): ConfigEvidence => ({
  playbook: o.playbook ?? "windows-schannel",
  takenAt: at,
  rebootPending: o.rebootPending ?? false,
  summary: "TLS 1.2: Enabled (Server Enabled=1, DisabledByDefault=0)",
  sides: [...(o.inbound === null ? [] : [side("inbound", o.inbound)]), ...(o.outbound === null ? [] : [side("outbound", o.outbound)])],
  prerequisites: o.prerequisites,
});
const cu7 = "Exchange 2016 CU7 (15.1.1261): TLS 1.2 needs CU8 (15.1.1415) or later; install the latest CU first (KB step 1)";
const exception = (o: Partial<{ endpointPort: number | null; version: string | null; expiresAt: Date; approved: boolean }> = {}) => ({ endpointPort: null, version: null, expiresAt: new Date("2027-01-01T00:00:00Z"), approved: true, justification: "vendor appliance, replacement ordered", ...o });

const smtp = (verdict: WireEvidence["verdict"], p: P) => wire(25, "smtp", verdict, p);

// Rows marked (issue 10 a-e) came out wrong before config evidence had a direction.
const cases: Array<[string, Parameters<typeof evaluateHostStatus>[0], HostStatusValue, RegExp, RegExp?]> = [
  ["never scanned", { wire: [], config: [], exceptions: [], now }, "unknown", /Never scanned/],
  ["modern on every endpoint", { wire: [wire(25, "smtp", "compliant", modern), wire(587, "submission", "compliant", modern)], config: [], exceptions: [], now }, "compliant", /rejected and TLS 1.2\+ accepted on 25\/smtp, 587\/submission at 2026-11-28 10:02 UTC/],
  ["TLS 1.0 accepted on smtp", { wire: [wire(25, "smtp", "noncompliant", legacyOpen), wire(587, "submission", "compliant", modern)], config: [], exceptions: [], now }, "noncompliant", /^TLS 1.0 and TLS 1.1 accepted on 25\/smtp at 2026-11-28 10:02 UTC$/],
  ["no TLS 1.2: mail flow at risk wins over legacy", { wire: [smtp("at_risk", legacyOnly)], config: [], exceptions: [], now }, "at_risk", /TLS 1.2 not accepted on 25\/smtp.*Microsoft 365/],
  ["STARTTLS not offered", { wire: [wire(25, "smtp", "no-tls", allUnknown)], config: [], exceptions: [], now }, "at_risk", /STARTTLS not offered on 25\/smtp.*451 5.7.3/],
  ["unreachable is never compliant", { wire: [wire(25, "smtp", "unreachable", allUnknown, "connect ETIMEDOUT")], config: [], exceptions: [], now }, "unreachable", /25\/smtp unreachable .*ETIMEDOUT/],
  ["one endpoint down, other fine: still cannot say compliant", { wire: [wire(25, "smtp", "unreachable", allUnknown), wire(587, "submission", "compliant", modern)], config: [], exceptions: [], now }, "unreachable", /1 other endpoint/],
  ["one endpoint down, other legacy: the finding counts", { wire: [wire(25, "smtp", "unreachable", allUnknown), wire(587, "submission", "noncompliant", legacyOpen)], config: [], exceptions: [], now }, "noncompliant", /587\/submission/],
  ["all unknown", { wire: [wire(443, "https", "error", allUnknown, "handshake timed out")], config: [], exceptions: [], now }, "error", /No conclusive handshake on 443\/https/],

  // Reboot pending
  ["registry fixed completely, reboot pending, wire still legacy only", { wire: [smtp("at_risk", legacyOnly)], config: [cfg({ rebootPending: true })], exceptions: [], now }, "pending_reboot", /not effective until the restart; the wire still shows: TLS 1.2 not accepted on 25\/smtp/],
  [
    "(issue 10 b) KB fix applied (TLS 1.2 enabled, legacy left on), reboot pending, wire unchanged",
    { wire: [smtp("at_risk", legacyOnly)], config: [cfg({ rebootPending: true, inbound: { legacyEnabled: true, summary: "SCHANNEL TLS 1.0/1.1 Server enabled, TLS 1.2 Server enabled" }, outbound: { legacyEnabled: true, summary: "SCHANNEL TLS 1.0/1.1 Client enabled" } })], exceptions: [], now },
    "pending_reboot",
    /not effective until the restart; the wire still shows: TLS 1.2 not accepted on 25\/smtp.*; after the restart still: .*TLS 1.0/,
  ],
  [
    "reboot pending, but the outbound side stays broken after it: at_risk naming the client side",
    { wire: [smtp("at_risk", legacyOnly)], config: [cfg({ rebootPending: true, outbound: { tls12Enabled: false, summary: "SCHANNEL TLS 1.2 Client disabled (Enabled=0)" } })], exceptions: [], now },
    "at_risk",
    /^Outbound to Microsoft 365: SCHANNEL TLS 1.2 Client disabled \(Enabled=0\).*not fixed by the pending restart/,
  ],
  ["reboot pending with nothing the wire contradicts", { wire: [smtp("compliant", modern)], config: [cfg({ rebootPending: true })], exceptions: [], now }, "pending_reboot", /A change waits for a reboot/],

  // Config against the wire, per direction
  ["server config fixed, no reboot pending, wire still legacy", { wire: [smtp("noncompliant", legacyOpen)], config: [cfg({})], exceptions: [], now }, "mismatch", /^Inbound config says fixed .* but TLS 1.0 and TLS 1.1 accepted on 25\/smtp/],
  [
    "(issue 10 a) wire fine on 25, SCHANNEL TLS 1.2 Client disabled: outbound at risk",
    { wire: [smtp("compliant", modern)], config: [cfg({ outbound: { tls12Enabled: false, summary: "SCHANNEL TLS 1.2 Client disabled (Enabled=0)" } })], exceptions: [], now },
    "at_risk",
    /^Outbound to Microsoft 365: SCHANNEL TLS 1.2 Client disabled \(Enabled=0\) \(windows-schannel config at 2026-11-28 10:02 UTC\)$/,
  ],
  [
    "(issue 10 c) Postfix smtp_tls_protocols allows TLS 1.0, server side rejects it on the wire: the outbound finding, named",
    {
      wire: [smtp("compliant", modern)],
      config: [cfg({ playbook: "postfix", inbound: { summary: "main.cf: smtpd_tls_protocols = >=TLSv1.2" }, outbound: { legacyEnabled: true, summary: "TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1" } })],
      exceptions: [],
      now,
    },
    "noncompliant",
    /^Outbound to Microsoft 365: TLS 1.0\/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1 \(postfix config/,
    /every reachable endpoint rejects/,
  ],
  [
    "server config enables legacy but the wire rejects it: advisory, with its direction, not a mismatch",
    { wire: [smtp("compliant", modern)], config: [cfg({ playbook: "postfix", inbound: { legacyEnabled: true, summary: "TLS 1.0/1.1 enabled by main.cf: smtpd_tls_protocols = >=TLSv1" }, outbound: null })], exceptions: [], now },
    "compliant",
    /^TLS 1.0\/1.1 rejected and TLS 1.2\+ accepted on 25\/smtp .*; advisory, not seen on the wire: Inbound from Microsoft 365: TLS 1.0\/1.1 enabled by main.cf: smtpd_tls_protocols/,
  ],
  [
    "outbound sends no STARTTLS at all (smtp_tls_security_level = none): at risk, the 451 5.7.3 case",
    { wire: [smtp("compliant", modern)], config: [cfg({ playbook: "postfix", outbound: { tlsOffered: false, summary: "smtp_tls_security_level = none: no STARTTLS to other servers" } })], exceptions: [], now },
    "at_risk",
    /^Outbound to Microsoft 365: smtp_tls_security_level = none.*451 5.7.3/,
  ],
  [
    "outbound wire evidence decides the outbound side; its config is advisory",
    { wire: [smtp("compliant", modern), { ...smtp("compliant", modern), service: "outbound-check", direction: "outbound" }], config: [cfg({ outbound: { legacyEnabled: true, summary: "SCHANNEL TLS 1.0 Client enabled" } })], exceptions: [], now },
    "compliant",
    /advisory, not seen on the wire: Outbound to Microsoft 365: SCHANNEL TLS 1.0 Client enabled/,
  ],
  ["config alone enabling legacy on the server side", { wire: [], config: [cfg({ playbook: "postfix", inbound: { legacyEnabled: true, summary: "smtpd_tls_protocols = >=TLSv1" } })], exceptions: [], now }, "noncompliant", /^Inbound from Microsoft 365: smtpd_tls_protocols = >=TLSv1/],
  ["config alone disabling TLS 1.2 on the server side", { wire: [], config: [cfg({ inbound: { tls12Enabled: false, summary: "SCHANNEL TLS 1.2 Server disabled (Enabled=0)" } })], exceptions: [], now }, "at_risk", /^Inbound from Microsoft 365: SCHANNEL TLS 1.2 Server disabled/],
  ["config alone, both directions fine", { wire: [], config: [cfg({})], exceptions: [], now }, "compliant", /^Config: inbound from Microsoft 365: .*; outbound to Microsoft 365: .*\(no wire evidence yet\)$/],
  // An outbound check made before any probe or config audit (the crash fixed in evaluateHostStatus).
  [
    "an outbound check alone: compliant on that evidence, saying the inbound side is not known yet",
    { wire: [{ ...smtp("compliant", { ...allUnknown, "TLSv1.3": "accepted" }), direction: "outbound" }], config: [], exceptions: [], now },
    "compliant",
    /^Wire: outbound via 25\/smtp: TLS 1\.3 negotiated at 2026-11-28 10:02 UTC \(no inbound wire evidence yet\)$/,
  ],
  [
    "an outbound check and config: both named",
    { wire: [{ ...smtp("compliant", { ...allUnknown, "TLSv1.2": "accepted" }), direction: "outbound" }], config: [cfg({ outbound: null })], exceptions: [], now },
    "compliant",
    /^Wire: outbound via 25\/smtp: TLS 1\.2 negotiated at .*; Config: inbound from Microsoft 365: .* \(no inbound wire evidence yet\)$/,
  ],
  ["config and wire agree on compliant, and the explanation names the outbound side", { wire: [smtp("compliant", modern)], config: [cfg({})], exceptions: [], now }, "compliant", /25\/smtp .*; outbound to Microsoft 365: SCHANNEL TLS 1.0\/1.1 Client disabled, TLS 1.2 Client enabled/],

  // Exceptions hide only what they name
  ["approved unexpired exception covers the finding", { wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception({ endpointPort: 25 })], now }, "excepted", /excepted until 2027-01-01 00:00 UTC: vendor appliance/],
  ["expired exception does not", { wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception({ expiresAt: new Date("2026-11-01T00:00:00Z") })], now }, "noncompliant", /TLS 1.0/],
  ["unapproved exception does not", { wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception({ approved: false })], now }, "noncompliant", /TLS 1.0/],
  ["exception for another port does not", { wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception({ endpointPort: 587 })], now }, "noncompliant", /TLS 1.0/],
  ["(issue 10 d) an exception scoped to a TLS version does not hide STARTTLS not offered", { wire: [wire(25, "smtp", "no-tls", allUnknown)], config: [], exceptions: [exception({ endpointPort: 25, version: "TLSv1" })], now }, "at_risk", /^STARTTLS not offered on 25\/smtp/],
  ["(issue 10 e) an exception with no version does not hide TLS 1.2 not accepted", { wire: [smtp("at_risk", legacyOnly)], config: [], exceptions: [exception({ endpointPort: 25 })], now }, "at_risk", /^TLS 1.2 not accepted on 25\/smtp/],
  ["a TLS 1.0 exception does not hide TLS 1.1 acceptance", { wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception({ endpointPort: 25, version: "TLSv1" })], now }, "noncompliant", /^TLS 1.0 and TLS 1.1 accepted on 25\/smtp/],
  ["a TLS 1.0 exception hides TLS 1.0 acceptance", { wire: [smtp("noncompliant", tls10AndModern)], config: [], exceptions: [exception({ endpointPort: 25, version: "TLS 1.0" })], now }, "excepted", /^TLS 1.0 accepted on 25\/smtp .*excepted until/],
  ["TLS 1.0 and TLS 1.1 exceptions together hide both", { wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception({ version: "TLSv1" }), exception({ version: "TLSv1.1" })], now }, "excepted", /excepted until/],
  [
    "an endpoint exception does not hide the outbound side",
    { wire: [smtp("noncompliant", legacyOpen)], config: [cfg({ playbook: "postfix", inbound: null, outbound: { legacyEnabled: true, summary: "TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1" } })], exceptions: [exception()], now },
    "noncompliant",
    /^Outbound to Microsoft 365: TLS 1.0\/1.1 enabled by main.cf: smtp_tls_protocols/,
  ],

  // Exchange prerequisites (the KB's step 1): only an update fixes them, so neither the wire nor an exception hides them
  ["wire and config fine, Exchange too old for TLS 1.2: at_risk, both directions, named once", { wire: [smtp("compliant", modern)], config: [cfg({ prerequisites: [cu7] })], exceptions: [], now }, "at_risk", /^Both directions: Exchange 2016 CU7 \(15\.1\.1261\): TLS 1\.2 needs CU8 \(15\.1\.1415\) or later; install the latest CU first \(KB step 1\) \(windows-schannel config at 2026-11-28 10:02 UTC\)$/],
  ["an exception does not hide an Exchange prerequisite", { wire: [smtp("noncompliant", legacyOpen)], config: [cfg({ inbound: { legacyEnabled: true }, prerequisites: [cu7] })], exceptions: [exception()], now }, "at_risk", /^Both directions: Exchange 2016 CU7/],
  ["a pending restart does not fix an Exchange prerequisite", { wire: [smtp("at_risk", legacyOnly)], config: [cfg({ rebootPending: true, prerequisites: [cu7] })], exceptions: [], now }, "at_risk", /^Both directions: Exchange 2016 CU7.*\(not fixed by the pending restart\); windows-schannel config changed/],
  ["server config fixed, wire legacy only, Exchange too old: at_risk with the reason, not a mismatch", { wire: [smtp("at_risk", legacyOnly)], config: [cfg({ prerequisites: [cu7] })], exceptions: [], now }, "at_risk", /^TLS 1.2 not accepted on 25\/smtp.*; also Both directions: Exchange 2016 CU7/],
];

describe("evaluateHostStatus", () => {
  it.each(cases)("%s -> %s", (_name, evidence, status, explanation, notExplanation) => {
    const result = evaluateHostStatus(evidence);
    expect(result.status).toBe(status);
    expect(result.explanation).toMatch(explanation);
    if (notExplanation) expect(result.explanation).not.toMatch(notExplanation);
  });
});

describe("directionVerdicts", () => {
  it("reports each direction with what decided it: wire for inbound, config for outbound, and advisories apart", () => {
    const v = directionVerdicts({
      wire: [smtp("compliant", modern)],
      config: [cfg({ playbook: "postfix", inbound: { legacyEnabled: true, summary: "smtpd_tls_protocols = >=TLSv1" }, outbound: { tls12Enabled: false, summary: "smtp_tls_protocols = <=TLSv1.1" } })],
      exceptions: [],
      now,
    });
    expect(v.inbound).toMatchObject({ source: "wire", state: "ok", findings: [], advisories: [expect.stringMatching(/^Inbound from Microsoft 365: smtpd_tls_protocols = >=TLSv1/)] });
    expect(v.outbound).toMatchObject({ source: "config", state: "at_risk", findings: [expect.stringMatching(/^Outbound to Microsoft 365: smtp_tls_protocols = <=TLSv1.1/)], advisories: [] });
  });
  it("puts an Exchange prerequisite in both directions, even where the wire decides", () => {
    const v = directionVerdicts({ wire: [smtp("compliant", modern)], config: [cfg({ prerequisites: [cu7] })], exceptions: [], now });
    for (const d of [v.inbound, v.outbound]) expect(d).toMatchObject({ state: "at_risk", findings: [expect.stringMatching(/^Both directions: Exchange 2016 CU7/)], advisories: [] });
  });
  it("says unknown for a direction nothing speaks about", () => {
    expect(directionVerdicts({ wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception()], now }).outbound).toMatchObject({ source: "none", state: "unknown" });
    expect(directionVerdicts({ wire: [smtp("noncompliant", legacyOpen)], config: [], exceptions: [exception()], now }).inbound).toMatchObject({ state: "excepted", excepted: [expect.stringMatching(/excepted until 2027-01-01/)] });
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
