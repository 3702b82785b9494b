import { describe, expect, it } from "vitest";
import { evidenceRows, exceptionFor, type HostEvidenceRecordValue } from "./rows";
import { trendDays } from "./trend-days";

const host = (over: Partial<HostEvidenceRecordValue> = {}): HostEvidenceRecordValue => ({
  id: "00000000-0000-4000-8000-000000000003",
  host: "mx3",
  address: "198.18.0.3",
  group: null,
  status: "noncompliant",
  explanation: "TLS 1.0 accepted on 25/smtp",
  config: "postfix at 2026-11-20T08:01:00.000Z: smtpd_tls_protocols = >=TLSv1",
  exceptions: null,
  endpoints: [
    {
      port: 25,
      service: "smtp",
      probedAt: "2026-11-20T08:00:00.000Z",
      verdict: "noncompliant",
      // Both stored shapes: {outcome, reason} and a bare outcome string.
      protocols: { TLSv1: { outcome: "accepted", reason: null }, "TLSv1.1": "rejected", "TLSv1.2": { outcome: "accepted", reason: null }, "TLSv1.3": { outcome: "rejected", reason: "protocol_version alert" } },
      ciphers: { TLSv1: "ECDHE-RSA-AES128-SHA", "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384" },
      error: null,
    },
  ],
  ...over,
});

const exc = (port: number | null, version: string | null) => ({ port, version, justification: `j ${port} ${version}`, expiresAt: "2027-01-01T00:00:00.000Z", approvedBy: "admin@example.test" });

describe("evidenceRows", () => {
  it("writes four rows per endpoint, TLS 1.0 to 1.3, cipher only where accepted", () => {
    const rows = evidenceRows(host());
    expect(rows.map((r) => [r.endpoint, r.version, r.outcome, r.cipher, r.reason])).toEqual([
      ["25/smtp", "TLS 1.0", "accepted", "ECDHE-RSA-AES128-SHA", ""],
      ["25/smtp", "TLS 1.1", "rejected", "", ""],
      ["25/smtp", "TLS 1.2", "accepted", "ECDHE-RSA-AES256-GCM-SHA384", ""],
      ["25/smtp", "TLS 1.3", "rejected", "", "protocol_version alert"],
    ]);
    expect(rows[0]).toMatchObject({ hostStatus: "noncompliant", statusExplanation: "TLS 1.0 accepted on 25/smtp", probedAt: "2026-11-20T08:00:00.000Z", configEvidence: expect.stringContaining(">=TLSv1") });
  });

  it("says 'not probed' for an endpoint without a result and keeps a host without endpoints as one row", () => {
    const never = evidenceRows(host({ endpoints: [{ port: 443, service: "https", probedAt: null, verdict: null, protocols: null, ciphers: null, error: null }] }));
    expect(never.map((r) => [r.outcome, r.reason])).toEqual(Array(4).fill(["unknown", "not probed"]));
    expect(evidenceRows(host({ endpoints: null }))).toEqual([expect.objectContaining({ host: "mx3", endpoint: "", reason: "no endpoints" })]);
  });

  it("names the exception on exactly the rows it covers", () => {
    const rows = evidenceRows(host({ exceptions: [exc(25, "TLSv1")] }));
    expect(rows.map((r) => r.exception)).toEqual(["j 25 TLSv1 (approved by admin@example.test)", "", "", ""]);
    expect(rows[0].exceptionExpiresAt).toBe("2027-01-01T00:00:00.000Z");
  });

  it("matches an exception without port or version to every endpoint or version", () => {
    expect(exceptionFor([exc(587, null)], 25, "TLSv1")).toBeNull();
    expect(exceptionFor([exc(587, null), exc(null, "TLSv1.1")], 25, "TLSv1.1")?.justification).toBe("j null TLSv1.1");
    expect(exceptionFor([exc(null, null)], 465, "TLSv1")).not.toBeNull();
  });
});

describe("trendDays", () => {
  it("lists every UTC day of a short period, ending today", () => {
    expect(trendDays(new Date("2026-11-28T15:00:00Z"), new Date("2026-12-01T09:00:00Z"))).toEqual(["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"]);
  });

  it("samples a year down to at most 60 points, still ending today", () => {
    const days = trendDays(new Date("2025-12-07T00:00:00Z"), new Date("2026-12-07T00:00:00Z"));
    expect(days.length).toBeLessThanOrEqual(60);
    expect(days.at(-1)).toBe("2026-12-07");
    expect(days[0] >= "2025-12-07").toBe(true);
  });
});
