import { describe, expect, it } from "vitest";
import { expiryState, flattenState, parseCertificate, parseProtocols } from "./evidence";

describe("stored probe evidence", () => {
  it("reads {outcome, reason} cells and bare outcome strings, with the cipher of accepted versions", () => {
    const m = parseProtocols({ TLSv1: { outcome: "rejected", reason: "protocol_version" }, "TLSv1.1": "unknown", "TLSv1.2": { outcome: "accepted", reason: null } }, { "TLSv1.2": "ECDHE-RSA-AES128-GCM-SHA256" });
    expect(m.TLSv1).toEqual({ outcome: "rejected", reason: "protocol_version", cipher: null });
    expect(m["TLSv1.1"]).toEqual({ outcome: "unknown", reason: null, cipher: null });
    expect(m["TLSv1.2"]).toEqual({ outcome: "accepted", reason: null, cipher: "ECDHE-RSA-AES128-GCM-SHA256" });
    // A version the writer did not record was not probed: unknown, never rejected.
    expect(m["TLSv1.3"]).toEqual({ outcome: "unknown", reason: "not probed", cipher: null });
  });

  it("treats garbage as unknown instead of throwing", () => {
    const m = parseProtocols("nonsense", 42);
    expect(Object.values(m).every((c) => c.outcome === "unknown")).toBe(true);
    expect(parseProtocols({ TLSv1: { outcome: "maybe" } }, null).TLSv1).toEqual({ outcome: "unknown", reason: "unreadable evidence", cipher: null });
    expect(parseCertificate("x")).toBeNull();
    expect(parseCertificate({ subject: "CN=a", notAfter: "not a date" })).toEqual({ subject: "CN=a", issuer: null, notAfter: null, san: [] });
  });

  it("warns about certificates inside the 30-day renewal window and flags expired ones", () => {
    const now = new Date("2026-11-28T00:00:00Z");
    expect(expiryState(new Date("2026-12-10T00:00:00Z"), now)).toEqual({ kind: "soon", days: 12 });
    expect(expiryState(new Date("2027-06-01T00:00:00Z"), now).kind).toBe("ok");
    expect(expiryState(new Date("2026-11-20T00:00:00Z"), now)).toEqual({ kind: "expired", days: 8 });
  });

  it("shows the Linux playbooks' settings as scope: setting = value, and hides bookkeeping", () => {
    const state = {
      playbookId: "postfix",
      collectedAt: "2026-11-28T04:00:00Z",
      summary: "TLS 1.0/1.1 enabled",
      legacyEnabled: true,
      settings: [
        { scope: "main.cf", setting: "smtpd_tls_protocols", value: ">=TLSv1", source: "explicit", enabled: ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] },
        { scope: "master.cf submission/inet", setting: "smtpd_tls_protocols", value: null, source: "default", enabled: null },
      ],
    };
    expect(flattenState(state)).toEqual([
      ["legacyEnabled", true],
      ["main.cf: smtpd_tls_protocols", ">=TLSv1"],
      ["master.cf submission/inet: smtpd_tls_protocols", "(not set: the software default applies)"],
    ]);
  });

  it("flattens nested config state into dotted keys", () => {
    expect(flattenState({ "TLS 1.2": { Server: { Enabled: 1, DisabledByDefault: 0 } }, protocols: ["TLSv1.2", "TLSv1.3"], absent: null })).toEqual([
      ["TLS 1.2.Server.Enabled", 1],
      ["TLS 1.2.Server.DisabledByDefault", 0],
      ["protocols", "TLSv1.2, TLSv1.3"],
      ["absent", null],
    ]);
  });
});
