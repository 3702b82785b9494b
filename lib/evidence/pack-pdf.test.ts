import { describe, expect, it } from "vitest";
import { pdfText, renderPackPdf, type PackData } from "./pack-pdf";

const pack = (hosts: number): PackData => ({
  id: "00000000-0000-4000-8000-000000000001",
  title: "All hosts",
  generatedAt: new Date("2026-12-07T12:00:00Z"),
  periodStart: new Date("2026-11-07T12:00:00Z"),
  requestedBy: "auditor@example.test",
  summary: { hosts, hostsThen: hosts, legacyNow: 1, legacyThen: hosts, byStatus: { compliant: hosts - 1, noncompliant: 1 } },
  trend: [
    { day: "2026-12-06", legacy: hosts, hosts },
    { day: "2026-12-07", legacy: 1, hosts },
  ],
  rollout: null,
  exceptions: [],
  inventory: [],
  hosts: Array.from({ length: hosts }, (_, i) => ({ name: `mx${i}`, address: "198.18.0.1", status: "compliant", explanation: "ok", configThen: null, configNow: null, rows: [], changes: [] })),
  chain: { kind: "head", label: "#7", id: "7", hash: "a".repeat(64), at: new Date("2026-12-07T11:59:00Z") },
});

describe("pdfText", () => {
  it("keeps Latin-1 and spells out the signs the standard fonts cannot show", () => {
    expect(pdfText("Müller: smtpd_tls_protocols ≥TLSv1.2 → ok")).toBe("Müller: smtpd_tls_protocols >=TLSv1.2 -> ok");
    expect(pdfText("主机 – “x”")).toBe("?? – “x”");
  });
});

describe("renderPackPdf", () => {
  it("writes a PDF and reports each host drawn", async () => {
    const seen: number[] = [];
    const pdf = await renderPackPdf(pack(40), (n) => {
      seen.push(n);
    });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Page objects: the summary page, the sections, and the per-host pages.
    expect((pdf.toString("latin1").match(/\/Type \/Page\b/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });
});
