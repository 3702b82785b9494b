import { describe, expect, it } from "vitest";
import { configEvidence, wireProtocols } from "./update";

describe("wireProtocols", () => {
  it("reads the per-version outcome objects scans store", () => {
    expect(
      wireProtocols({ TLSv1: { outcome: "accepted", reason: null }, "TLSv1.1": { outcome: "rejected", reason: "protocol_version" }, "TLSv1.2": { outcome: "accepted" }, "TLSv1.3": { outcome: "unknown", reason: "timeout" } }),
    ).toEqual({ TLSv1: "accepted", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "unknown" });
  });
  it("accepts bare outcome strings", () => {
    expect(wireProtocols({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" })).toEqual({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
  });
  it("treats anything it cannot read as unknown, never as rejected", () => {
    expect(wireProtocols({ TLSv1: "maybe" })).toEqual({ TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "unknown", "TLSv1.3": "unknown" });
    expect(wireProtocols(null)).toEqual({ TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "unknown", "TLSv1.3": "unknown" });
  });
});

describe("configEvidence", () => {
  const takenAt = new Date("2026-11-28T10:00:00Z");
  const inbound = { direction: "inbound", legacyEnabled: false, tls12Enabled: true, summary: "main.cf: smtpd_tls_protocols = >=TLSv1.2" };
  const outbound = { direction: "outbound", legacyEnabled: true, tls12Enabled: true, summary: "TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1" };
  it("maps a playbook state with its per-direction sides", () => {
    expect(configEvidence({ playbook: "postfix", takenAt, rebootPending: false, state: { legacyEnabled: true, tls12Enabled: true, summary: "TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1", sides: [inbound, outbound] } })).toEqual({
      playbook: "postfix",
      takenAt,
      sides: [inbound, outbound],
      rebootPending: false,
      summary: "TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1",
      prerequisites: [],
    });
  });
  it("carries the Exchange prerequisites a SCHANNEL state names", () => {
    const prerequisites = ["Exchange 2016 CU7 (15.1.1261): TLS 1.2 needs CU8 (15.1.1415) or later; install the latest CU first (KB step 1)"];
    expect(configEvidence({ playbook: "windows-schannel", takenAt, rebootPending: false, state: { legacyEnabled: true, tls12Enabled: true, summary: "x", sides: [inbound], prerequisites } })?.prerequisites).toEqual(prerequisites);
  });
  it("reads a snapshot from before directions as inbound for nginx and Dovecot, and as no verdict for Postfix and SCHANNEL", () => {
    const old = { legacyEnabled: true, tls12Enabled: true, summary: "ssl_protocols = TLSv1 TLSv1.1 TLSv1.2" };
    expect(configEvidence({ playbook: "nginx", takenAt, rebootPending: false, state: old })?.sides).toEqual([{ direction: "inbound", ...old }]);
    expect(configEvidence({ playbook: "postfix", takenAt, rebootPending: false, state: old })?.sides).toEqual([]);
  });
  it("takes reboot-pending from the snapshot column or the state", () => {
    const state = { legacyEnabled: false, tls12Enabled: true, summary: "TLS 1.0 Server: Enabled=0", sides: [] };
    expect(configEvidence({ playbook: "windows-schannel", takenAt, rebootPending: true, state })?.rebootPending).toBe(true);
    expect(configEvidence({ playbook: "windows-schannel", takenAt, rebootPending: false, state: { ...state, rebootPending: true } })?.rebootPending).toBe(true);
  });
  it("ignores a state that does not say enough (raw parameters only, or a side without a direction)", () => {
    expect(configEvidence({ playbook: "nginx", takenAt, rebootPending: false, state: { ssl_protocols: "TLSv1.2" } })).toBeNull();
    expect(configEvidence({ playbook: "nginx", takenAt, rebootPending: false, state: null })).toBeNull();
    expect(configEvidence({ playbook: "postfix", takenAt, rebootPending: false, state: { legacyEnabled: true, tls12Enabled: true, summary: "x", sides: [{ legacyEnabled: true, tls12Enabled: true, summary: "x" }] } })).toBeNull();
  });
});
