// The host page's query against a real Postgres: the newest probe per endpoint, the newest config
// snapshot per playbook, the history timeline of status changes and job tasks, and no secrets.
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { getHostDetail } from "@/lib/hosts/detail";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("detail");

const T = (iso: string) => new Date(iso);
let hostId = "";
let jobId = "";

beforeAll(async () => {
  const credential = await prisma.credential.create({
    data: { name: "mail-root", kind: "ssh_key", username: "root", secretEncrypted: "v1:abcd1234:SECRET-IV:SECRET-TAG:SECRET-CIPHERTEXT", keyId: "abcd1234" },
  });
  const host = await prisma.host.create({
    data: {
      name: "mx1.example.test",
      address: "192.0.2.25",
      platform: "linux",
      roles: ["postfix"],
      tags: ["prod", "mail"],
      group: "HQ",
      owner: "mail-ops@example.test",
      transport: "ssh",
      port: 22,
      credentialId: credential.id,
      endpoints: { create: [{ port: 25, service: "smtp", tlsStart: "starttls" }, { port: 587, service: "submission", tlsStart: "starttls" }, { port: 465, service: "smtps", tlsStart: "implicit" }] },
      status: { create: { status: "noncompliant", explanation: "TLS 1.0 and TLS 1.1 accepted on 587/submission at 2026-11-27 10:00 UTC", firstFailingAt: T("2026-11-20T10:00:00Z"), lastScanAt: T("2026-11-27T10:00:00Z") } },
    },
    include: { endpoints: true },
  });
  hostId = host.id;
  const e25 = host.endpoints.find((e) => e.port === 25)!;
  const e587 = host.endpoints.find((e) => e.port === 587)!;
  const job = await prisma.job.create({ data: { kind: "scan", state: "succeeded", target: { hostIds: [hostId] }, parameters: {}, createdAt: T("2026-11-27T09:59:00Z") } });
  jobId = job.id;
  await prisma.jobTask.create({ data: { jobId, hostId, state: "succeeded", startedAt: T("2026-11-27T10:00:00Z"), finishedAt: T("2026-11-27T10:00:05Z") } });
  const oldJob = await prisma.job.create({ data: { kind: "audit", state: "failed", target: { hostIds: [hostId] }, parameters: {}, createdAt: T("2026-11-21T08:00:00Z") } });
  await prisma.jobTask.create({ data: { jobId: oldJob.id, hostId, state: "unreachable", error: "ssh: connect timed out", startedAt: T("2026-11-21T08:00:01Z") } });

  const modern = { TLSv1: { outcome: "rejected", reason: "protocol_version" }, "TLSv1.1": { outcome: "rejected", reason: "protocol_version" }, "TLSv1.2": { outcome: "accepted", reason: null }, "TLSv1.3": { outcome: "accepted", reason: null } };
  const legacy = { TLSv1: { outcome: "accepted", reason: null }, "TLSv1.1": { outcome: "accepted", reason: null }, "TLSv1.2": { outcome: "accepted", reason: null }, "TLSv1.3": { outcome: "unknown", reason: "timeout" } };
  await prisma.probeResult.createMany({
    data: [
      // Older result of port 25 (legacy), then the newer one (fixed): the page shows the newer.
      { endpointId: e25.id, probedAt: T("2026-11-20T10:00:00Z"), starttls: "offered", protocols: legacy, verdict: "noncompliant" },
      { endpointId: e25.id, probedAt: T("2026-11-27T10:00:00Z"), starttls: "offered", protocols: modern, ciphers: { "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.3": "TLS_AES_256_GCM_SHA384" }, certificate: { subject: "CN=mx1.example.test", issuer: "CN=Example CA", notAfter: "2026-12-10T00:00:00Z", san: ["mx1.example.test"] }, verdict: "compliant", jobId },
      // Older writers stored bare outcome strings: still readable.
      { endpointId: e587.id, probedAt: T("2026-11-27T10:00:01Z"), starttls: "offered", protocols: { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" }, verdict: "noncompliant" },
    ],
  });
  await prisma.configSnapshot.createMany({
    data: [
      { hostId, playbook: "postfix", takenAt: T("2026-11-20T10:00:00Z"), state: { smtpd_tls_protocols: ">=TLSv1" }, raw: "old" },
      { hostId, playbook: "postfix", takenAt: T("2026-11-27T10:01:00Z"), state: { summary: "smtpd_tls_protocols = >=TLSv1.2 (submission overrides: >=TLSv1)", smtpd_tls_protocols: ">=TLSv1.2", master: { submission: { smtpd_tls_protocols: ">=TLSv1" } } }, raw: "new", rebootPending: false },
      { hostId, playbook: "openssl", takenAt: T("2026-11-26T10:00:00Z"), state: { MinProtocol: null }, raw: "", rebootPending: true },
    ],
  });
  await prisma.statusHistory.createMany({
    data: [
      { hostId, at: T("2026-11-20T10:00:05Z"), status: "noncompliant", previous: "unknown", explanation: "TLS 1.0 and TLS 1.1 accepted on 25/smtp at 2026-11-20 10:00 UTC" },
      { hostId, at: T("2026-11-27T10:00:05Z"), status: "noncompliant", previous: "noncompliant", explanation: "TLS 1.0 and TLS 1.1 accepted on 587/submission at 2026-11-27 10:00 UTC" },
    ],
  });
});

describe("host detail", () => {
  it("returns null for a host that does not exist or an id that is not a uuid", async () => {
    expect(await getHostDetail("00000000-0000-4000-8000-000000000000")).toBeNull();
    expect(await getHostDetail("../etc/passwd")).toBeNull();
  });

  it("shows identity with the credential's name and kind, never its secret", async () => {
    const d = (await getHostDetail(hostId))!;
    expect(d.host).toMatchObject({ name: "mx1.example.test", address: "192.0.2.25", platform: "linux", roles: ["postfix"], tags: ["prod", "mail"], group: "HQ", owner: "mail-ops@example.test", transport: "ssh", port: 22 });
    expect(d.host.credential).toEqual({ name: "mail-root", kind: "ssh_key" });
    expect(JSON.stringify(d)).not.toMatch(/SECRET|secretEncrypted|abcd1234/);
    expect(d.status).toMatchObject({ status: "noncompliant", firstFailingAt: T("2026-11-20T10:00:00Z") });
  });

  it("gives each endpoint its newest probe as a version matrix with reasons, ciphers and certificate", async () => {
    const d = (await getHostDetail(hostId))!;
    expect(d.endpoints.map((e) => e.port)).toEqual([25, 465, 587]);
    const [e25, e465, e587] = d.endpoints;
    expect(e25.probe!.probedAt).toEqual(T("2026-11-27T10:00:00Z"));
    expect(e25.probe!.verdict).toBe("compliant");
    expect(e25.probe!.jobId).toBe(jobId);
    expect(e25.probe!.protocols.TLSv1).toEqual({ outcome: "rejected", reason: "protocol_version", cipher: null });
    expect(e25.probe!.protocols["TLSv1.2"]).toEqual({ outcome: "accepted", reason: null, cipher: "ECDHE-RSA-AES256-GCM-SHA384" });
    expect(e25.probe!.certificate).toEqual({ subject: "CN=mx1.example.test", issuer: "CN=Example CA", notAfter: T("2026-12-10T00:00:00Z"), san: ["mx1.example.test"] });
    expect(e465.probe).toBeNull();
    expect(e587.probe!.protocols["TLSv1.1"].outcome).toBe("accepted");
    expect(e587.probe!.protocols["TLSv1.3"].outcome).toBe("rejected");
    expect(e587.probe!.certificate).toBeNull();
  });

  it("keeps the newest config snapshot per playbook, flattened to key-values", async () => {
    const d = (await getHostDetail(hostId))!;
    expect(d.config.map((c) => c.playbook)).toEqual(["openssl", "postfix"]);
    const postfix = d.config.find((c) => c.playbook === "postfix")!;
    expect(postfix.takenAt).toEqual(T("2026-11-27T10:01:00Z"));
    expect(postfix.summary).toContain(">=TLSv1.2");
    expect(postfix.values).toContainEqual(["smtpd_tls_protocols", ">=TLSv1.2"]);
    expect(postfix.values).toContainEqual(["master.submission.smtpd_tls_protocols", ">=TLSv1"]);
    expect(d.config.find((c) => c.playbook === "openssl")!.rebootPending).toBe(true);
  });

  it("shows both mail directions: inbound decided by the wire (587 accepts TLS 1.0/1.1), outbound unknown without a direction-aware snapshot", async () => {
    const d = (await getHostDetail(hostId))!;
    expect(d.directions.inbound).toMatchObject({ source: "wire", state: "noncompliant", findings: [expect.stringMatching(/^TLS 1.0 and TLS 1.1 accepted on 587\/submission/)] });
    expect(d.directions.outbound).toMatchObject({ source: "none", state: "unknown", findings: [] });
  });

  it("merges status changes and job tasks into one timeline, newest first, with job links", async () => {
    const d = (await getHostDetail(hostId))!;
    expect(d.timeline.map((e) => [e.kind, e.at.toISOString()])).toEqual([
      ["status", "2026-11-27T10:00:05.000Z"],
      ["task", "2026-11-27T10:00:00.000Z"],
      ["task", "2026-11-21T08:00:01.000Z"],
      ["status", "2026-11-20T10:00:05.000Z"],
    ]);
    const scan = d.timeline[1];
    expect(scan).toMatchObject({ kind: "task", jobId, jobKind: "scan", taskState: "succeeded" });
    expect(d.timeline[2]).toMatchObject({ kind: "task", jobKind: "audit", taskState: "unreachable", error: "ssh: connect timed out" });
  });
});
