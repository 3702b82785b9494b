// Config audit jobs against the real lab over SSH (Postfix, nginx, Dovecot in network namespaces)
// and the Windows test double over WinRM, through a real in-process worker (startWorker): stored
// ConfigSnapshots, host statuses from wire + config evidence, the task logs an operator reads,
// and host-key pinning (first contact recorded as pending, a changed key refused).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { createAuditJob } from "@/lib/jobs/audits";
import { createCredential } from "@/lib/credentials/service";
import { setSetting } from "@/lib/settings";
import { startWorker } from "@/agents/worker";
import { windowsSchannel, type SchannelState } from "@/agents/playbooks/windows-schannel";
import { openWinRmSession } from "@/agents/transport/winrm";
import { ensureLabUp } from "../lab/fleet";
import { startDouble } from "./windows-double-support";
import { deleteHosts } from "@/lib/inventory/hosts";
import { confirmHostKey, setHostTrust } from "@/lib/hosts/host-keys";
import { scopeCredential } from "./custody-support";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor, waitFor } from "./scan-support";

const fleet = ensureLabUp();
const admin = { id: "00000000-0000-4000-8000-000000000001", email: "audit-tests@example.test" };

scanDatabase("audit");

const LAB_HOSTS = ["mx-legacy", "mx-modern", "web-legacy", "imap-legacy"] as const;
const labHost = (name: string) => fleet.hosts.find((h) => h.name === name)!;
const hostIds = new Map<string, string>();
let worker: { stop(): Promise<void> } | undefined;
let auditJobId = "";

async function runJob(create: () => Promise<{ jobId: string }>, timeoutMs = 120_000) {
  const { jobId } = await create();
  await jobWhenTerminal(jobId, timeoutMs);
  return jobId;
}

async function taskFor(jobId: string, hostId: string) {
  return (await tasksOf(jobId)).find((t) => t.hostId === hostId)!;
}

async function auditEvents(action: string, hostName: string) {
  return prisma.auditEvent.findMany({ where: { action, target: `host:${hostName}` }, orderBy: { id: "asc" } });
}

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  await setSetting(testActor, "allowedTargets", ["127.0.0.1/32", "198.18.0.0/15"]);
  await createCredential(admin, { name: "lab-root", kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(fleet.ssh.keyPath, "utf8") });
  await scopeCredential("lab-root", ["198.18.0.0/15", "127.0.0.1/32"]);
  for (const name of LAB_HOSTS) {
    const h = labHost(name);
    const created = await makeHost("audit", h.address, h.endpoints.map((e) => ({ port: e.port, service: e.service })), `${name}.audit.test`);
    await prisma.host.update({
      where: { id: created.id },
      data: { platform: "linux", roles: h.roles, transport: "ssh", port: 22, credential: { connect: { name: "lab-root" } }, pinnedKey: h.ssh!.hostKeyFingerprint, pinnedAt: new Date("2026-01-05T00:00:00Z") },
    });
    hostIds.set(name, created.id);
  }
  worker = await startWorker({ workerId: "audit-test-worker" });
  const ids = [...hostIds.values()];
  await runJob(() => createScanJob(testActor, { hostIds: ids }));
  auditJobId = await runJob(() => createAuditJob(testActor, { hostIds: ids }));
}, 300_000);

afterAll(async () => {
  await worker?.stop();
});

describe("a config audit of the lab over SSH", () => {
  it("succeeds for every host, one snapshot per playbook with the parsed state and the raw outputs", async () => {
    const job = await prisma.job.findUniqueOrThrow({ where: { id: auditJobId } });
    expect(job.kind).toBe("audit");
    expect(job.state).toBe("succeeded");
    const playbookOf: Record<string, string> = { "mx-legacy": "postfix", "mx-modern": "postfix", "web-legacy": "nginx", "imap-legacy": "dovecot" };
    for (const name of LAB_HOSTS) {
      const task = await taskFor(auditJobId, hostIds.get(name)!);
      expect(task.state, task.log).toBe("succeeded");
      const snaps = await prisma.configSnapshot.findMany({ where: { jobId: auditJobId, hostId: hostIds.get(name)! } });
      expect(snaps.map((s) => s.playbook)).toEqual([playbookOf[name]]);
      const state = snaps[0]!.state as Record<string, unknown>;
      expect(typeof state.summary).toBe("string");
      expect(state).toHaveProperty("legacyEnabled");
      expect(state).toHaveProperty("tls12Enabled");
      expect(state).not.toHaveProperty("raw");
      expect(snaps[0]!.raw).toMatch(/^\$ /);
      expect(snaps[0]!.rebootPending).toBe(false);
      expect(task.log).toContain("host key matches the pinned one");
    }
  });

  it("mx-legacy: noncompliant with config evidence, and the task log says which parameter enables TLS 1.0/1.1", async () => {
    const id = hostIds.get("mx-legacy")!;
    const snap = await prisma.configSnapshot.findFirstOrThrow({ where: { jobId: auditJobId, hostId: id } });
    expect((snap.state as { legacyEnabled: boolean }).legacyEnabled).toBe(true);
    expect(snap.raw).toContain("smtpd_tls_protocols");
    const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: id } });
    expect(status.status).toBe("noncompliant");
    const log = (await taskFor(auditJobId, id)).log;
    expect(log).toMatch(/postfix: (main\.cf: )?smtpd_tls_protocols = >=TLSv1 -> TLS 1\.0\/1\.1 enabled/);
    expect(log).toMatch(/host status noncompliant/);
  });

  it("mx-modern: compliant, config and wire agree", async () => {
    const id = hostIds.get("mx-modern")!;
    const snap = await prisma.configSnapshot.findFirstOrThrow({ where: { jobId: auditJobId, hostId: id } });
    expect(snap.state).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
    const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: id } });
    expect(status.status, status.explanation).toBe("compliant");
    expect((await taskFor(auditJobId, id)).log).toMatch(/smtpd_tls_protocols = >=TLSv1\.2 -> TLS 1\.2(-1\.3|, 1\.3) only/);
  });

  it("web-legacy and imap-legacy: nginx ssl_protocols with its file:line, Dovecot ssl_min_protocol", async () => {
    const web = (await taskFor(auditJobId, hostIds.get("web-legacy")!)).log;
    expect(web).toMatch(/nginx: .*tls-site\.conf:\d+.*ssl_protocols = TLSv1 TLSv1\.1 TLSv1\.2 -> TLS 1\.0\/1\.1 enabled/);
    const imap = (await taskFor(auditJobId, hostIds.get("imap-legacy")!)).log;
    expect(imap).toMatch(/dovecot: .*ssl_min_protocol = TLSv1 -> TLS 1\.0\/1\.1 enabled/);
    for (const name of ["web-legacy", "imap-legacy"]) {
      expect((await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: hostIds.get(name)! } })).status).toBe("noncompliant");
    }
  });

  it("a host without a credential is skipped with the reason, never succeeded", async () => {
    const bare = await makeHost("audit", labHost("mx-modern").address, [{ port: 25 }], "no-credential.audit.test");
    const jobId = await runJob(() => createAuditJob(testActor, { hostIds: [bare.id] }));
    const task = await taskFor(jobId, bare.id);
    expect(task.state).toBe("skipped");
    expect(task.log).toContain("no credential: set one on the host");
    expect(await prisma.configSnapshot.count({ where: { hostId: bare.id } })).toBe(0);
  });

  it("refuses a host whose SSH key differs from the pinned one: failed task, host.key_mismatch, the new key pending", async () => {
    const target = labHost("mx-modern");
    const h = await makeHost("audit", target.address, [{ port: 25 }], "wrong-pin.audit.test");
    await prisma.host.update({
      where: { id: h.id },
      data: { platform: "linux", roles: ["postfix"], transport: "ssh", credential: { connect: { name: "lab-root" } }, pinnedKey: labHost("mx-legacy").ssh!.hostKeyFingerprint, pinnedAt: new Date("2026-01-05T00:00:00Z") },
    });
    const jobId = await runJob(() => createAuditJob(testActor, { hostIds: [h.id] }));
    const task = await taskFor(jobId, h.id);
    expect(task.state).toBe("failed");
    expect(task.error).toMatch(/SSH host key for wrong-pin\.audit\.test .* changed since it was pinned on 2026-01-05/);
    expect(task.error).toContain("Nothing was sent");
    expect(await prisma.configSnapshot.count({ where: { hostId: h.id } })).toBe(0);
    const host = await prisma.host.findUniqueOrThrow({ where: { id: h.id } });
    expect(host.pinnedKey).toBe(labHost("mx-legacy").ssh!.hostKeyFingerprint);
    expect(host.pinnedKeyPending).toBe(target.ssh!.hostKeyFingerprint);
    const [event] = await auditEvents("host.key_mismatch", "wrong-pin.audit.test");
    expect(event?.details).toMatchObject({ presented: target.ssh!.hostKeyFingerprint, authenticationAttempted: false });
  });

  it("first contact records the presented key as pending (host.key_first_seen) and sends no credential until an admin confirms it", async () => {
    const target = labHost("mx-modern");
    const h = await makeHost("audit", target.address, [{ port: 25 }], "first-contact.audit.test");
    await prisma.host.update({ where: { id: h.id }, data: { platform: "linux", roles: ["postfix"], transport: "ssh", credential: { connect: { name: "lab-root" } } } });
    const jobId = await runJob(() => createAuditJob(testActor, { hostIds: [h.id] }));
    const task = await taskFor(jobId, h.id);
    expect(task.state, task.log).toBe("failed");
    expect(task.error).toContain(`The SSH host key of first-contact.audit.test (${target.address}) (${target.ssh!.hostKeyFingerprint}) has not been confirmed, so no credential was sent`);
    expect(task.error).toContain("confirm the key on the host page");
    const host = await prisma.host.findUniqueOrThrow({ where: { id: h.id } });
    expect(host.pinnedKey).toBeNull();
    expect(host.pinnedKeyPending).toBe(target.ssh!.hostKeyFingerprint);
    expect(await auditEvents("host.key_first_seen", "first-contact.audit.test")).toHaveLength(1);
    expect(await prisma.configSnapshot.count({ where: { hostId: h.id, jobId } })).toBe(0);

    // The admin confirms the key on the host page: the next audit logs in and runs the checks.
    await confirmHostKey(admin, { hostId: h.id, key: target.ssh!.hostKeyFingerprint });
    const confirmedJob = await runJob(() => createAuditJob(testActor, { hostIds: [h.id] }));
    const confirmed = await taskFor(confirmedJob, h.id);
    expect(confirmed.state, confirmed.log).toBe("succeeded");
    expect(confirmed.log).toContain("host key matches the pinned one");
    expect(await prisma.configSnapshot.count({ where: { hostId: h.id, jobId: confirmedJob } })).toBe(1);
  });
});

// ---- Windows: the test double (not Windows; see tests/lab/windows-double/README.md) -----------

describe("a config audit of the Windows test double over WinRM", () => {
  let double: Awaited<ReturnType<typeof startDouble>> | undefined;
  let hostId = "";
  beforeAll(async () => {
    double = await startDouble("legacy");
    await createCredential(admin, { name: "double-admin", kind: "winrm_basic", username: double.ready.user, secret: double.ready.password });
    await scopeCredential("double-admin", ["127.0.0.1/32"]);
    const h = await makeHost("audit", "127.0.0.1", [{ port: double.ready.ports.smtp, service: "smtp" }], "exchange-double.audit.test");
    await prisma.host.update({ where: { id: h.id }, data: { platform: "windows", roles: ["exchange"], transport: "winrm", port: double.ready.ports.winrmHttps, credential: { connect: { name: "double-admin" } } } });
    // As an admin would for this host: pin its first certificate, and allow TLS 1.0/1.1 on the
    // management connection (the legacy profile's listener speaks nothing newer before the fix).
    await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
    await setHostTrust(admin, { hostId: h.id, setting: "legacyTls", enabled: true });
    hostId = h.id;
  }, 60_000);
  afterAll(async () => {
    await double?.stop();
  });

  it("reads SCHANNEL over WinRM, pins the certificate on first contact (trust on first use), and shows pending_reboot after a fix awaiting its restart", async () => {
    const d = double!;
    await runJob(() => createScanJob(testActor, { hostIds: [hostId] }));
    const first = await runJob(() => createAuditJob(testActor, { hostIds: [hostId] }));
    const t1 = await taskFor(first, hostId);
    expect(t1.state, t1.log).toBe("succeeded");
    expect(t1.log).toContain("windows-schannel: TLS 1.2 Server: Enabled=0, DisabledByDefault=1");
    expect(t1.log).toContain("first contact: certificate");
    const host = await prisma.host.findUniqueOrThrow({ where: { id: hostId } });
    expect(host.pinnedKey).toBe(d.ready.certificate.sha256.replace(/[:\s]/g, "").toLowerCase());
    expect(host.pinnedKeyPending).toBeNull();
    expect((await prisma.hostStatus.findUniqueOrThrow({ where: { hostId } })).status).toBe("at_risk");

    // The fix, made outside the audit (as a remediation would): both goals, no restart.
    const s = await openWinRmSession({ host: "127.0.0.1", port: d.ready.ports.winrmHttps, transport: "https", auth: { kind: "basic", username: d.ready.user, password: d.ready.password }, tls: { thumbprint: d.ready.certificate.sha1, minVersion: "TLSv1" } });
    try {
      const before = (await windowsSchannel.check(s)) as SchannelState;
      const applied = await windowsSchannel.apply(s, [...windowsSchannel.plan(before, "enable-tls12"), ...windowsSchannel.plan(before, "disable-legacy")]);
      expect(applied.pendingReboot).toBe(true);
    } finally {
      await s.close();
    }

    const second = await runJob(() => createAuditJob(testActor, { hostIds: [hostId] }));
    const t2 = await taskFor(second, hostId);
    expect(t2.state, t2.log).toBe("succeeded");
    expect(t2.log).toContain("certificate matches the pinned one");
    expect(t2.log).toContain("windows-schannel: TLS 1.2 Server: Enabled=1, DisabledByDefault=0");
    expect(t2.log).toMatch(/windows-schannel: reboot pending: SCHANNEL\/.NET values changed/);
    const snap = await prisma.configSnapshot.findFirstOrThrow({ where: { jobId: second, hostId } });
    expect(snap.rebootPending).toBe(true);
    expect(snap.state).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
    const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId } });
    expect(status.status, status.explanation).toBe("pending_reboot");
  }, 180_000);
});

describe("hosts deleted during a config audit", () => {
  it("the job still finishes when its last host (and so its task) is deleted while the task runs", async () => {
    // An SSH port that accepts and never sends its banner: the task sits in the connect while the host goes.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const created = await makeHost("audit-deleted", "127.0.0.1", [{ port: 25 }], "silent-ssh.audit.test");
      await prisma.host.update({
        where: { id: created.id },
        data: { transport: "ssh", port: (silent.address() as AddressInfo).port, credential: { connect: { name: "lab-root" } } },
      });
      const { jobId } = await createAuditJob(testActor, { hostIds: [created.id] });
      await waitFor("the audit task to run", async () => (await prisma.jobTask.count({ where: { jobId, state: "running" } })) === 1, 30_000);
      await deleteHosts(admin, [created.id]);
      const job = await jobWhenTerminal(jobId, 40_000);
      expect(job.state).toBe("succeeded");
      // The host is retired, not removed: its task stays as evidence, cancelled with the reason.
      expect(await prisma.jobTask.findMany({ where: { jobId }, select: { state: true, error: true } })).toEqual([{ state: "cancelled", error: expect.stringMatching(/host was deleted/) }]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 90_000);
});
