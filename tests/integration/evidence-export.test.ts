// The compliance evidence export against the real database: one row per host x endpoint x TLS
// version with the latest evidence, the same rows as of a past instant rebuilt from the history
// (older probe, older config, the exception valid then, the status then, hosts that existed
// then), and the same rows whatever the page size (the stream's keyset paging loses nothing).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeHosts } from "../support/purge-hosts";
import { prisma, disconnectPrisma } from "@/lib/db";
import { parseCsv } from "@/lib/inventory/csv";
import { evidenceCut, evidenceStream, AsOfParam, type EvidenceFormat } from "@/lib/evidence/export";
import { EVIDENCE_COLUMNS, type EvidenceRow } from "@/lib/evidence/rows";

const P = `evx${Date.now().toString(36)}`;
const d = (s: string) => new Date(s);
const accepted = (cipher: string) => ({ outcome: "accepted", reason: null, cipher });
let approverEmail = "";

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

async function csvRows(scope: Record<string, unknown>, asOf?: Date, pageSize?: number): Promise<EvidenceRow[]> {
  const body = await text(evidenceStream({ sort: "name", dir: "asc", ...scope }, "csv", evidenceCut(asOf), { pageSize }));
  const [header, ...records] = parseCsv(body.replace(/^\uFEFF/, ""));
  expect(header.fields).toEqual([...EVIDENCE_COLUMNS]);
  return records.map((r) => Object.fromEntries(EVIDENCE_COLUMNS.map((c, i) => [c, r.fields[i]])) as EvidenceRow);
}

beforeAll(async () => {
  const approver = await prisma.user.create({ data: { email: `${P}-admin@example.test`, role: "admin", passwordHash: "x" } });
  approverEmail = approver.email;
  // mx1: accepted TLS 1.0 on 25 until a fix on 2026-12-05; an exception covered it until 2026-12-01.
  const mx1 = await prisma.host.create({
    data: { name: `${P}-mx1`, address: "198.18.0.1", group: "Frankfurt", createdAt: d("2026-11-01T00:00:00Z"), status: { create: { status: "compliant", explanation: "TLS 1.0/1.1 rejected now" } } },
  });
  const smtp = await prisma.endpoint.create({ data: { hostId: mx1.id, port: 25, service: "smtp", tlsStart: "starttls", createdAt: d("2026-11-01T00:00:00Z") } });
  await prisma.probeResult.create({
    data: {
      endpointId: smtp.id,
      probedAt: d("2026-11-20T08:00:00Z"),
      starttls: "offered",
      verdict: "noncompliant",
      protocols: { TLSv1: accepted("ECDHE-RSA-AES128-SHA"), "TLSv1.1": { outcome: "rejected", reason: "protocol_version alert" }, "TLSv1.2": accepted("ECDHE-RSA-AES256-GCM-SHA384"), "TLSv1.3": { outcome: "rejected", reason: "protocol_version alert" } },
      ciphers: { TLSv1: "ECDHE-RSA-AES128-SHA", "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384" },
    },
  });
  await prisma.probeResult.create({
    data: {
      endpointId: smtp.id,
      probedAt: d("2026-12-05T08:00:00Z"),
      starttls: "offered",
      verdict: "compliant",
      protocols: { TLSv1: { outcome: "rejected", reason: "protocol_version alert" }, "TLSv1.1": { outcome: "rejected", reason: "protocol_version alert" }, "TLSv1.2": accepted("ECDHE-RSA-AES256-GCM-SHA384"), "TLSv1.3": accepted("TLS_AES_256_GCM_SHA384") },
      ciphers: { "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.3": "TLS_AES_256_GCM_SHA384" },
    },
  });
  await prisma.configSnapshot.createMany({
    data: [
      { hostId: mx1.id, takenAt: d("2026-11-20T08:01:00Z"), playbook: "postfix", raw: "", state: { legacyEnabled: true, tls12Enabled: true, summary: "smtpd_tls_protocols = >=TLSv1" } },
      { hostId: mx1.id, takenAt: d("2026-12-05T08:01:00Z"), playbook: "postfix", raw: "", state: { legacyEnabled: false, tls12Enabled: true, summary: "smtpd_tls_protocols = >=TLSv1.2" } },
    ],
  });
  await prisma.statusHistory.createMany({
    data: [
      { hostId: mx1.id, at: d("2026-11-20T08:01:00Z"), status: "noncompliant", previous: "unknown", explanation: "TLS 1.0 accepted on 25/smtp at 2026-11-20 08:00 UTC" },
      { hostId: mx1.id, at: d("2026-11-25T10:00:00Z"), status: "excepted", previous: "noncompliant", explanation: "TLS 1.0 accepted on 25/smtp; excepted until 2026-12-01 00:00 UTC: legacy scanner" },
      { hostId: mx1.id, at: d("2026-12-05T08:01:00Z"), status: "compliant", previous: "excepted", explanation: "TLS 1.0/1.1 rejected now" },
    ],
  });
  await prisma.exception.create({
    data: { hostId: mx1.id, endpointPort: 25, version: "TLSv1", justification: "legacy scanner until 2026-12", expiresAt: d("2026-12-01T00:00:00Z"), requestedById: randomUUID(), approvedById: approver.id, approvedAt: d("2026-11-25T10:00:00Z"), createdAt: d("2026-11-24T10:00:00Z") },
  });
  // mx2 arrived after 2026-11-30; web1 has no endpoints.
  await prisma.host.create({ data: { name: `${P}-mx2`, address: "198.18.0.2", createdAt: d("2026-12-02T00:00:00Z"), status: { create: { status: "unknown", explanation: "Never scanned" } }, endpoints: { create: { port: 25, service: "smtp", tlsStart: "starttls" } } } });
  await prisma.host.create({ data: { name: `${P}-web1`, address: "198.18.0.3", createdAt: d("2026-11-02T00:00:00Z"), status: { create: { status: "unknown", explanation: "Never scanned" } } } });
});

afterAll(async () => {
  await purgeHosts(P);
  await prisma.user.deleteMany({ where: { email: { startsWith: P } } });
  await disconnectPrisma();
});

describe("compliance evidence export", () => {
  it("writes one row per host x endpoint x version with the latest probe, config and status", async () => {
    const rows = await csvRows({ q: P });
    const mx1 = rows.filter((r) => r.host === `${P}-mx1`);
    expect(mx1.map((r) => [r.endpoint, r.version, r.outcome])).toEqual([
      ["25/smtp", "TLS 1.0", "rejected"],
      ["25/smtp", "TLS 1.1", "rejected"],
      ["25/smtp", "TLS 1.2", "accepted"],
      ["25/smtp", "TLS 1.3", "accepted"],
    ]);
    expect(mx1[0]).toMatchObject({ reason: "protocol_version alert", cipher: "", probedAt: "2026-12-05T08:00:00.000Z", verdict: "compliant", hostStatus: "compliant", group: "Frankfurt" });
    expect(mx1[3].cipher).toBe("TLS_AES_256_GCM_SHA384");
    expect(mx1[0].configEvidence).toBe("postfix at 2026-12-05T08:01:00.000Z: smtpd_tls_protocols = >=TLSv1.2");
    // The exception expired on 2026-12-01: nothing excuses the row today.
    expect(mx1[0].exception).toBe("");
    const mx2 = rows.filter((r) => r.host === `${P}-mx2`);
    expect(mx2.map((r) => [r.outcome, r.reason])).toEqual(Array(4).fill(["unknown", "not probed"]));
    expect(rows.filter((r) => r.host === `${P}-web1`)).toEqual([expect.objectContaining({ endpoint: "", reason: "no endpoints", hostStatus: "unknown" })]);
  });

  it("rebuilds the rows as of a past instant from the history", async () => {
    const rows = await csvRows({ q: P }, AsOfParam.parse("2026-11-30 00:00 UTC"));
    expect(rows.some((r) => r.host === `${P}-mx2`)).toBe(false);
    const mx1 = rows.filter((r) => r.host === `${P}-mx1`);
    expect(mx1[0]).toMatchObject({
      version: "TLS 1.0",
      outcome: "accepted",
      cipher: "ECDHE-RSA-AES128-SHA",
      probedAt: "2026-11-20T08:00:00.000Z",
      hostStatus: "excepted",
      configEvidence: "postfix at 2026-11-20T08:01:00.000Z: smtpd_tls_protocols = >=TLSv1",
      exception: `legacy scanner until 2026-12 (approved by ${approverEmail})`,
      exceptionExpiresAt: "2026-12-01T00:00:00.000Z",
    });
    // The exception names TLS 1.0 only.
    expect(mx1[1]).toMatchObject({ version: "TLS 1.1", outcome: "rejected", exception: "" });
    // Before the first status change the host was never scanned.
    const early = await csvRows({ q: P }, AsOfParam.parse("2026-11-10"));
    expect(early.filter((r) => r.host === `${P}-mx1`).map((r) => [r.hostStatus, r.reason])).toEqual(Array(4).fill(["unknown", "not probed"]));
  });

  it("filters by the status at the as-of time", async () => {
    const rows = await csvRows({ q: P, status: ["excepted"] }, AsOfParam.parse("2026-11-30"));
    expect([...new Set(rows.map((r) => r.host))]).toEqual([`${P}-mx1`]);
    expect(await csvRows({ q: P, status: ["excepted"] })).toEqual([]);
  });

  it("streams the same rows whatever the page size, in CSV and JSON", async () => {
    const whole = await csvRows({ q: P });
    for (const pageSize of [1, 2]) expect(await csvRows({ q: P }, undefined, pageSize)).toEqual(whole);
    const json = async (format: EvidenceFormat, pageSize: number) => JSON.parse(await text(evidenceStream({ sort: "name", dir: "asc", q: P }, format, evidenceCut(undefined), { pageSize })));
    for (const pageSize of [1, 2, 1000]) {
      const doc = await json("json", pageSize);
      expect(doc.columns).toEqual([...EVIDENCE_COLUMNS]);
      expect(doc.asOf).toBeNull();
      expect(doc.rows.map((r: string[]) => Object.fromEntries(EVIDENCE_COLUMNS.map((c, i) => [c, r[i]])))).toEqual(whole);
    }
  });

  it("reads no further than the client: a cancelled stream stops", async () => {
    const reader = evidenceStream({ sort: "name", dir: "asc", q: P }, "csv", evidenceCut(undefined), { pageSize: 1 }).getReader();
    const head = await reader.read();
    expect(new TextDecoder().decode(head.value)).toContain("host,address");
    const firstPage = await reader.read();
    expect(new TextDecoder().decode(firstPage.value)).toContain(`${P}-mx1`);
    await reader.cancel();
    expect((await reader.read()).done).toBe(true);
  });

  it("refuses an as-of time it cannot read", () => {
    expect(AsOfParam.safeParse("30/11/2026").success).toBe(false);
    expect(AsOfParam.safeParse("2999-01-01").success).toBe(false);
    expect(AsOfParam.parse("2026-11-30T12:30:00Z").toISOString()).toBe("2026-11-30T12:30:00.000Z");
  });
});
