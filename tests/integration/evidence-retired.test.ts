// Evidence of what is gone (real Postgres, real SMTP servers on loopback): an as-of export shows
// every host that existed at that instant under the name it had then, retired or renamed since,
// and not hosts added later; a removed endpoint is retired, not deleted, so its last probe is
// still evidence as of a time before its removal, while today's export, the host's live views
// and its scans leave it out. The PDF pack's "at the start of the period" counts the hosts that
// existed then, retired since or not.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { parseCsv } from "@/lib/inventory/csv";
import { createHost, deleteHosts, getHost, updateHost } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";
import { createScanJob } from "@/lib/jobs/scans";
import { evidenceCut, evidenceStream, type ExportScope } from "@/lib/evidence/export";
import { gatherPack } from "@/lib/evidence/pack-run";
import { EVIDENCE_COLUMNS, type EvidenceRow } from "@/lib/evidence/rows";
import { jobWhenTerminal, makeHost, scanDatabase, scanWorkerForBlock, testActor } from "./scan-support";

scanDatabase("asof_retired");

const actor = { id: "00000000-0000-4000-8000-0000000000a5", email: "asof-tests@example.test" };
const day = 86_400_000;
const now = Date.now();
const ago = (days: number) => new Date(now - days * day);
const AS_OF = ago(10);
const outcome = (o: "accepted" | "rejected") => ({ outcome: o, reason: o === "rejected" ? "protocol_version alert" : null });

// Addresses: data only, never dialled (these hosts are never scanned).
const input = (name: string, endpoints: string, tags = "asof") => HostInput.parse({ name, address: "192.0.2.20", platform: "linux", roles: "postfix", tags, endpoints });

/** Moves a host created now (through the inventory service) back to `at`, endpoints and name history with it. */
async function createdAt(hostId: string, at: Date) {
  await prisma.$executeRaw`UPDATE "Host" SET "createdAt" = ${at} WHERE id = ${hostId}::uuid`;
  await prisma.$executeRaw`UPDATE "HostName" SET "from" = ${at} WHERE "hostId" = ${hostId}::uuid`;
  await prisma.$executeRaw`UPDATE "Endpoint" SET "createdAt" = ${at} WHERE "hostId" = ${hostId}::uuid`;
}

async function probe(hostId: string, port: number, at: Date, legacy: boolean) {
  const endpoint = await prisma.endpoint.findFirstOrThrow({ where: { hostId, port, removedAt: null } });
  await prisma.probeResult.create({
    data: {
      endpointId: endpoint.id,
      probedAt: at,
      starttls: "offered",
      verdict: legacy ? "noncompliant" : "compliant",
      protocols: { TLSv1: outcome(legacy ? "accepted" : "rejected"), "TLSv1.1": outcome("rejected"), "TLSv1.2": outcome("accepted"), "TLSv1.3": outcome("rejected") },
      ciphers: { ...(legacy ? { TLSv1: "ECDHE-RSA-AES128-SHA" } : {}), "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384" },
    },
  });
}

async function csvRows(scope: Omit<ExportScope, "sort" | "dir">, asOf?: Date): Promise<EvidenceRow[]> {
  const body = await new Response(evidenceStream({ sort: "name", dir: "asc", ...scope }, "csv", evidenceCut(asOf))).text();
  const [, ...records] = parseCsv(body.replace(/^\uFEFF/, ""));
  return records.map((r) => Object.fromEntries(EVIDENCE_COLUMNS.map((c, i) => [c, r.fields[i]])) as EvidenceRow);
}
const hostsIn = (rows: EvidenceRow[]) => [...new Set(rows.map((r) => r.host))];

describe("an as-of export", () => {
  beforeAll(async () => {
    // mx-retired accepted TLS 1.0 as of AS_OF and was deleted since.
    const retired = await createHost(actor, input("mx-retired.asof.test", "25/smtp"));
    await createdAt(retired.id, ago(20));
    await probe(retired.id, 25, ago(15), true);
    await prisma.configSnapshot.create({ data: { hostId: retired.id, takenAt: ago(15), playbook: "postfix", raw: "", state: { summary: "smtpd_tls_protocols = >=TLSv1" } } });
    await deleteHosts(actor, [retired.id]);
    // mx-old was renamed to mx-new since.
    const renamed = await createHost(actor, input("mx-old.asof.test", "25/smtp"));
    await createdAt(renamed.id, ago(20));
    await probe(renamed.id, 25, ago(15), false);
    await updateHost(actor, renamed.id, input("mx-new.asof.test", "25/smtp"));
    // mx-late arrived after AS_OF.
    await createHost(actor, input("mx-late.asof.test", "25/smtp"));
    // relay had 25 and 587; 587 was removed since, after its last probe.
    const relay = await createHost(actor, input("relay.asof.test", "25/smtp;587/submission"));
    await createdAt(relay.id, ago(20));
    await probe(relay.id, 25, ago(15), false);
    await probe(relay.id, 587, ago(14), true);
    await updateHost(actor, relay.id, input("relay.asof.test", "25/smtp"));
  });

  it("includes a host retired since, under its name then, with its evidence", async () => {
    const rows = (await csvRows({ q: "asof.test" }, AS_OF)).filter((r) => r.host === "mx-retired.asof.test");
    expect(rows.map((r) => [r.endpoint, r.version, r.outcome])).toEqual([
      ["25/smtp", "TLS 1.0", "accepted"],
      ["25/smtp", "TLS 1.1", "rejected"],
      ["25/smtp", "TLS 1.2", "accepted"],
      ["25/smtp", "TLS 1.3", "rejected"],
    ]);
    expect(rows[0]).toMatchObject({ cipher: "ECDHE-RSA-AES128-SHA", probedAt: ago(15).toISOString(), address: "192.0.2.20", configEvidence: `postfix at ${ago(15).toISOString()}: smtpd_tls_protocols = >=TLSv1` });
    // Today's export keeps leaving retired hosts out.
    expect(hostsIn(await csvRows({ q: "asof.test" }))).not.toContain("mx-retired.asof.test");
  });

  it("leaves out a host created after the as-of time", async () => {
    expect(hostsIn(await csvRows({ q: "asof.test" }, AS_OF))).toEqual(["mx-old.asof.test", "mx-retired.asof.test", "relay.asof.test"]);
    expect(hostsIn(await csvRows({ q: "asof.test" }))).toEqual(["mx-late.asof.test", "mx-new.asof.test", "relay.asof.test"]);
  });

  it("shows a host renamed since under its old name, and filters on the name it had then", async () => {
    const rows = await csvRows({ q: "mx-old" }, AS_OF);
    expect(rows.map((r) => [r.host, r.version, r.outcome, r.probedAt])[0]).toEqual(["mx-old.asof.test", "TLS 1.0", "rejected", ago(15).toISOString()]);
    expect(await csvRows({ q: "mx-new" }, AS_OF)).toEqual([]);
    expect(hostsIn(await csvRows({ q: "mx-new" }))).toEqual(["mx-new.asof.test"]);
  });

  it("shows a removed endpoint's last probe as of before its removal, and not today", async () => {
    const then = (await csvRows({ q: "relay.asof.test" }, AS_OF)).filter((r) => r.endpoint === "587/submission");
    expect(then.map((r) => [r.version, r.outcome, r.probedAt])).toEqual([
      ["TLS 1.0", "accepted", ago(14).toISOString()],
      ["TLS 1.1", "rejected", ago(14).toISOString()],
      ["TLS 1.2", "accepted", ago(14).toISOString()],
      ["TLS 1.3", "rejected", ago(14).toISOString()],
    ]);
    expect([...new Set((await csvRows({ q: "relay.asof.test" })).map((r) => r.endpoint))]).toEqual(["25/smtp"]);
  });

  it("keeps the removed endpoint as a retired row, and a port added again is a new endpoint", async () => {
    const relay = await prisma.host.findFirstOrThrow({ where: { name: "relay.asof.test" } });
    const [removed] = await prisma.endpoint.findMany({ where: { hostId: relay.id, port: 587 } });
    expect(removed.removedAt).not.toBeNull();
    expect(await prisma.probeResult.count({ where: { endpointId: removed.id } })).toBe(1);
    expect((await getHost(relay.id))!.endpoints.map((e) => e.port)).toEqual([25]);

    await updateHost(actor, relay.id, input("relay.asof.test", "25/smtp;587/submission"));
    const again = await prisma.endpoint.findMany({ where: { hostId: relay.id, port: 587 }, orderBy: { createdAt: "asc" } });
    expect(again.map((e) => [e.id === removed.id, e.removedAt === null])).toEqual([
      [true, false],
      [false, true],
    ]);
    const today = (await csvRows({ q: "relay.asof.test" })).filter((r) => r.endpoint === "587/submission");
    expect(today.map((r) => r.reason)).toEqual(Array(4).fill("not probed"));
    expect((await csvRows({ q: "relay.asof.test" }, AS_OF)).filter((r) => r.endpoint === "587/submission")[0]).toMatchObject({ outcome: "accepted", probedAt: ago(14).toISOString() });
  });
});

describe("the PDF pack's start of the period", () => {
  it("counts hosts that existed then, retired since, and keeps the config then of a host renamed since", async () => {
    const tag = "asof-pack";
    const made = [];
    for (const name of ["pk-kept.asof.test", "pk-gone.asof.test", "pk-old.asof.test"]) {
      const h = await createHost(actor, input(name, "25/smtp", tag));
      await createdAt(h.id, ago(20));
      await probe(h.id, 25, ago(15), true);
      await prisma.configSnapshot.create({ data: { hostId: h.id, takenAt: ago(15), playbook: "postfix", raw: "", state: { summary: `${name} then` } } });
      made.push(h);
    }
    const [kept, gone, renamed] = made;
    await probe(kept.id, 25, ago(2), false);
    await deleteHosts(actor, [gone.id]);
    await updateHost(actor, renamed.id, input("pk-new.asof.test", "25/smtp", tag));

    const data = await gatherPack({ id: randomUUID(), title: "asof", scope: { kind: "filter", filter: { tag } }, periodStart: AS_OF, requestedBy: actor.email }, new Date());
    expect(data.summary).toMatchObject({ hosts: 2, legacyNow: 1, hostsThen: 3, legacyThen: 3 });
    expect(data.hosts.map((h) => [h.name, h.configThen])).toEqual([
      ["pk-kept.asof.test", `postfix at ${ago(15).toISOString()}: pk-kept.asof.test then`],
      ["pk-new.asof.test", `postfix at ${ago(15).toISOString()}: pk-old.asof.test then`],
    ]);
    // The trend counts the retired host on the days it existed.
    expect(data.trend[0]).toMatchObject({ hosts: 3, legacy: 3 });
    expect(data.trend[data.trend.length - 1]).toMatchObject({ hosts: 2, legacy: 1 });
  });
});

describe("scanning a host after one of its endpoints was removed", () => {
  const { smtp } = scanWorkerForBlock("asof-scan-worker", 4);

  it("probes only the endpoints it still has, and keeps the removed one's results", async () => {
    const modern = await smtp({ min: "TLSv1.2", max: "TLSv1.3" });
    const legacy = await smtp({ min: "TLSv1", max: "TLSv1.3" });
    const host = await makeHost("asof", "127.0.0.1", [{ port: modern.port }, { port: legacy.port, service: "submission" }]);
    const first = await createScanJob(testActor, { hostIds: [host.id] });
    await jobWhenTerminal(first.jobId);
    expect((await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: host.id } })).status).toBe("noncompliant");
    const removed = await prisma.endpoint.findFirstOrThrow({ where: { hostId: host.id, port: legacy.port } });

    await updateHost(actor, host.id, HostInput.parse({ name: host.name, address: "127.0.0.1", platform: "linux", roles: "postfix", endpoints: `${modern.port}/smtp` }));
    const second = await createScanJob(testActor, { hostIds: [host.id] });
    await jobWhenTerminal(second.jobId);

    const probed = await prisma.probeResult.findMany({ where: { jobId: second.jobId }, include: { endpoint: true } });
    expect(probed.map((r) => r.endpoint.port)).toEqual([modern.port]);
    expect(await prisma.probeResult.findMany({ where: { endpointId: removed.id }, select: { jobId: true, verdict: true } })).toEqual([{ jobId: first.jobId, verdict: "noncompliant" }]);
    // The removed endpoint's TLS 1.0 no longer counts against the host.
    expect((await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: host.id } })).status).toBe("compliant");
  });
});
