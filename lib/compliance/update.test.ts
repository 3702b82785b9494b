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
  it("maps a playbook state that carries the four status fields", () => {
    expect(configEvidence({ playbook: "postfix", takenAt, rebootPending: false, state: { legacyEnabled: true, tls12Enabled: true, summary: "smtpd_tls_protocols = >=TLSv1" } })).toEqual({
      playbook: "postfix",
      takenAt,
      legacyEnabled: true,
      tls12Enabled: true,
      rebootPending: false,
      summary: "smtpd_tls_protocols = >=TLSv1",
    });
  });
  it("takes reboot-pending from the snapshot column or the state", () => {
    const state = { legacyEnabled: false, tls12Enabled: true, summary: "TLS 1.0 Server: Enabled=0" };
    expect(configEvidence({ playbook: "windows-schannel", takenAt, rebootPending: true, state })?.rebootPending).toBe(true);
    expect(configEvidence({ playbook: "windows-schannel", takenAt, rebootPending: false, state: { ...state, rebootPending: true } })?.rebootPending).toBe(true);
  });
  it("ignores a state that does not say enough (raw parameters only)", () => {
    expect(configEvidence({ playbook: "nginx", takenAt, rebootPending: false, state: { ssl_protocols: "TLSv1.2" } })).toBeNull();
    expect(configEvidence({ playbook: "nginx", takenAt, rebootPending: false, state: null })).toBeNull();
  });
});
