// Scan jobs end to end against the real database and real SMTP STARTTLS servers on loopback:
// one task per host, evidence and status stored, cancel, "retry failed hosts only", the
// per-job and per-host concurrency limits, and drift detection with its webhook.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { cancelJob, createScanJob, retryFailedTasks, ScanError } from "@/lib/jobs/scans";
import { setSetting } from "@/lib/settings";
import { deleteHosts } from "@/lib/inventory/hosts";
import { closedPort, jobWhenTerminal, makeHost, scanWorkerForBlock, tasksOf, testActor, scanDatabase, waitFor, type LoopbackSmtp } from "./scan-support";

scanDatabase("jobs");

const { smtp } = scanWorkerForBlock("scan-jobs-test-worker", 8);

describe("a scan job over several hosts", () => {
  let jobId: string;
  let legacyA: LoopbackSmtp, legacyB: LoopbackSmtp, modern: LoopbackSmtp, elsewhere: LoopbackSmtp;
  let hosts: Record<"legacy" | "modern" | "down" | "outside", { id: string; name: string }>;

  beforeAll(async () => {
    [legacyA, legacyB, modern] = await Promise.all([smtp({ min: "TLSv1", max: "TLSv1.3" }), smtp({ min: "TLSv1", max: "TLSv1.2" }), smtp({ min: "TLSv1.2", max: "TLSv1.3" })]);
    // 127.0.0.2 is loopback too, but outside the allowed ranges (127.0.0.1/32) until the retry.
    elsewhere = await smtp({ min: "TLSv1.2", max: "TLSv1.3", host: "127.0.0.2" });
    hosts = {
      legacy: await makeHost("multi", "127.0.0.1", [{ port: legacyA.port }, { port: legacyB.port, service: "submission" }]),
      modern: await makeHost("multi", "127.0.0.1", [{ port: modern.port }]),
      down: await makeHost("multi", "127.0.0.1", [{ port: await closedPort() }]),
      outside: await makeHost("multi", "127.0.0.2", [{ port: elsewhere.port }]),
    };
    ({ jobId } = await createScanJob(testActor, { hostIds: Object.values(hosts).map((h) => h.id) }));
    await jobWhenTerminal(jobId);
  });

  it("runs one task per host and ends failed because one host could not be probed", async () => {
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job.state).toBe("failed");
    expect(job.startedAt).not.toBeNull();
    expect(job.finishedAt).not.toBeNull();
    const tasks = await tasksOf(jobId);
    const byHost = Object.fromEntries(tasks.map((t) => [t.hostId, t]));
    expect(byHost[hosts.legacy.id]).toMatchObject({ state: "succeeded", attempt: 1, error: null, lockedBy: null });
    expect(byHost[hosts.modern.id]).toMatchObject({ state: "succeeded", attempt: 1 });
    expect(byHost[hosts.down.id]).toMatchObject({ state: "unreachable", attempt: 1 });
    expect(byHost[hosts.outside.id]!.state).toBe("failed");
    expect(byHost[hosts.outside.id]!.error).toMatch(/outside the allowed target ranges/);
  });

  it("stores wire evidence per endpoint and writes a human log line per endpoint", async () => {
    const results = await prisma.probeResult.findMany({ where: { jobId }, include: { endpoint: true } });
    expect(results).toHaveLength(5);
    const legacy25 = results.find((r) => r.endpoint.port === legacyA.port)!;
    expect(legacy25.verdict).toBe("noncompliant");
    expect(legacy25.starttls).toBe("offered");
    expect(legacy25.protocols).toMatchObject({ TLSv1: { outcome: "accepted" }, "TLSv1.1": { outcome: "accepted" }, "TLSv1.2": { outcome: "accepted" }, "TLSv1.3": { outcome: "accepted" } });
    expect(legacy25.certificate).toMatchObject({ subject: expect.stringContaining("scan-test.lab") });
    expect(legacy25.ciphers).toHaveProperty("TLSv1.2");
    expect(legacy25.durationMs).toBeGreaterThan(0);
    const sub = results.find((r) => r.endpoint.port === legacyB.port)!;
    expect(sub.protocols).toMatchObject({ "TLSv1.3": { outcome: "rejected", reason: expect.any(String) } });

    const log = (await prisma.jobTask.findFirstOrThrow({ where: { jobId, hostId: hosts.legacy.id } })).log;
    expect(log).toContain(`${legacyA.port}/smtp: TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 accepted, TLS 1.3 accepted -> noncompliant`);
    expect(log).toContain(`${legacyB.port}/submission: TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 accepted, TLS 1.3 rejected -> noncompliant`);
    expect(log).toMatch(/-> succeeded\n$/);
    const refused = await prisma.probeResult.findFirstOrThrow({ where: { jobId, endpoint: { hostId: hosts.outside.id } } });
    expect(refused).toMatchObject({ verdict: "error", error: "target not in allowed ranges" });
  });

  it("recomputes each host's status with an explanation naming the evidence", async () => {
    const statuses = await prisma.hostStatus.findMany({ where: { hostId: { in: Object.values(hosts).map((h) => h.id) } } });
    const of = (id: string) => statuses.find((s) => s.hostId === id)!;
    expect(of(hosts.legacy.id).status).toBe("noncompliant");
    expect(of(hosts.legacy.id).explanation).toMatch(/^TLS 1\.0 and TLS 1\.1 accepted on \d+\/(smtp|submission) at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(of(hosts.legacy.id).firstFailingAt).not.toBeNull();
    expect(of(hosts.modern.id).status).toBe("compliant");
    expect(of(hosts.modern.id).explanation).toMatch(/TLS 1\.0\/1\.1 rejected and TLS 1\.2\+ accepted/);
    expect(of(hosts.down.id).status).toBe("unreachable");
    expect(of(hosts.outside.id).status).toBe("error");
    for (const h of Object.values(hosts)) expect(of(h.id).lastScanAt).not.toBeNull();
    const history = await prisma.statusHistory.findMany({ where: { hostId: hosts.legacy.id } });
    expect(history.map((h) => [h.previous, h.status])).toEqual([["unknown", "noncompliant"]]);
  });

  it("audits the refused target and the job's creation", async () => {
    const refused = await prisma.auditEvent.findMany({ where: { action: "scan.target_refused", target: `host:${hosts.outside.name}` } });
    expect(refused).toHaveLength(1);
    expect(refused[0]!.details).toMatchObject({ address: "127.0.0.2", jobId });
    expect(await prisma.auditEvent.count({ where: { action: "scan.create", target: `job:${jobId}` } })).toBe(1);
  });

  it("retries only the failed and unreachable hosts", async () => {
    await setSetting(testActor, "allowedTargets", ["127.0.0.0/8"]);
    const { retried } = await retryFailedTasks(testActor, jobId);
    expect(retried).toBe(2);
    const job = await jobWhenTerminal(jobId);
    expect(job.state).toBe("succeeded"); // the unreachable host is still unreachable, which does not fail a scan
    const tasks = await tasksOf(jobId);
    const byHost = Object.fromEntries(tasks.map((t) => [t.hostId, t]));
    expect(byHost[hosts.legacy.id]).toMatchObject({ state: "succeeded", attempt: 1 });
    expect(byHost[hosts.modern.id]).toMatchObject({ state: "succeeded", attempt: 1 });
    expect(byHost[hosts.down.id]).toMatchObject({ state: "unreachable", attempt: 2 });
    expect(byHost[hosts.outside.id]).toMatchObject({ state: "succeeded", attempt: 2, error: null });
    expect(byHost[hosts.outside.id]!.log).toContain("retry requested by scan-tests@example.test");
    // Hosts that were not retried were not probed again.
    const perEndpoint = await prisma.probeResult.groupBy({ by: ["endpointId"], where: { jobId }, _count: true });
    const counts = Object.fromEntries(perEndpoint.map((r) => [r.endpointId, r._count]));
    const endpointsOf = (hostId: string) => tasks.find((t) => t.hostId === hostId)!.host.endpoints.map((e) => counts[e.id]);
    expect(endpointsOf(hosts.legacy.id)).toEqual([1, 1]);
    expect(endpointsOf(hosts.modern.id)).toEqual([1]);
    expect(endpointsOf(hosts.down.id)).toEqual([2]);
    expect(endpointsOf(hosts.outside.id)).toEqual([2]);
    expect((await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: hosts.outside.id } })).status).toBe("compliant");
    await setSetting(testActor, "allowedTargets", ["127.0.0.1/32"]);
  });
});

describe("limits", () => {
  it("never runs more tasks of a job than its cap, and never two tasks of one host at once", async () => {
    const slow = await smtp({ min: "TLSv1.2", max: "TLSv1.3", greetingMs: 600 });
    const many = await Promise.all(Array.from({ length: 5 }, () => makeHost("cap", "127.0.0.1", [{ port: slow.port }])));
    const shared = many[0]!;
    const a = await createScanJob(testActor, { hostIds: many.map((h) => h.id) }, { maxConcurrency: 2 });
    const b = await createScanJob(testActor, { hostIds: [shared.id] });
    let maxRunningInA = 0;
    let maxRunningOnShared = 0;
    const sample = setInterval(() => {
      void Promise.all([
        prisma.jobTask.count({ where: { jobId: a.jobId, state: "running" } }),
        prisma.jobTask.count({ where: { hostId: shared.id, state: "running" } }),
      ]).then(([inA, onShared]) => {
        maxRunningInA = Math.max(maxRunningInA, inA);
        maxRunningOnShared = Math.max(maxRunningOnShared, onShared);
      });
    }, 50);
    try {
      await jobWhenTerminal(a.jobId, 90_000);
      await jobWhenTerminal(b.jobId, 90_000);
    } finally {
      clearInterval(sample);
    }
    expect(maxRunningInA).toBeGreaterThan(0);
    expect(maxRunningInA).toBeLessThanOrEqual(2);
    expect(maxRunningOnShared).toBe(1);
    const sharedTasks = await prisma.jobTask.findMany({ where: { hostId: shared.id }, orderBy: { startedAt: "asc" } });
    expect(sharedTasks.map((t) => t.state)).toEqual(["succeeded", "succeeded"]);
    // The second task on the shared host started only after the first had finished.
    expect(sharedTasks[1]!.startedAt!.getTime()).toBeGreaterThanOrEqual(sharedTasks[0]!.finishedAt!.getTime());
  });
});

describe("cancel", () => {
  it("cancels hosts not started at once, stops running ones at their next check, and never shows them as done", async () => {
    // Slow greeting: each endpoint takes several seconds, longer than a lease renewal.
    const slow = await smtp({ min: "TLSv1.2", max: "TLSv1.3", greetingMs: 4_000 });
    const hosts = await Promise.all(Array.from({ length: 6 }, () => makeHost("cancel", "127.0.0.1", [{ port: slow.port }])));
    const { jobId } = await createScanJob(testActor, { hostIds: hosts.map((h) => h.id) }, { maxConcurrency: 2 });
    await waitFor("two running tasks", async () => (await prisma.jobTask.count({ where: { jobId, state: "running" } })) === 2);
    const { cancelledTasks } = await cancelJob(testActor, jobId);
    expect(cancelledTasks).toBe(4);
    const during = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(during.state).toBe("running"); // still running: two hosts are being probed
    expect(during.cancelledAt).not.toBeNull();

    const job = await jobWhenTerminal(jobId, 30_000);
    expect(job.state).toBe("cancelled");
    const tasks = await tasksOf(jobId);
    expect(tasks.map((t) => t.state)).toEqual(Array(6).fill("cancelled"));
    expect(tasks.filter((t) => t.attempt === 0)).toHaveLength(4);
    for (const t of tasks.filter((t) => t.attempt === 1)) expect(t.log).toMatch(/cancelled: the job was cancelled/);
    for (const t of tasks.filter((t) => t.attempt === 0)) expect(t.log).toMatch(/cancelled by scan-tests@example\.test before it started/);
    // Probes cut short are not evidence.
    expect(await prisma.probeResult.count({ where: { jobId } })).toBe(0);
    expect(await prisma.auditEvent.count({ where: { action: "job.cancel", target: `job:${jobId}` } })).toBe(1);
    await expect(cancelJob(testActor, jobId)).rejects.toBeInstanceOf(ScanError);
  });
});

describe("hosts deleted during a scan", () => {
  it("the job still finishes when a host (and so its task) is deleted while it is being probed", async () => {
    const fast = await smtp({ min: "TLSv1.2", max: "TLSv1.3" });
    const slow = await smtp({ min: "TLSv1.2", max: "TLSv1.3", greetingMs: 3_000 });
    const keep = await makeHost("deleted", "127.0.0.1", [{ port: fast.port }]);
    const gone = await makeHost("deleted", "127.0.0.1", [{ port: slow.port }]);
    const { jobId } = await createScanJob(testActor, { hostIds: [keep.id, gone.id] });
    await waitFor("the slow host to be probed", async () => (await prisma.jobTask.count({ where: { jobId, hostId: gone.id, state: "running" } })) === 1);
    await deleteHosts({ id: "00000000-0000-4000-8000-000000000001", email: testActor.email }, [gone.id]);
    const job = await jobWhenTerminal(jobId, 30_000);
    expect(job.state).toBe("succeeded");
    // The deleted host is retired: its task stays, cancelled with the reason.
    const states = new Map((await tasksOf(jobId)).map((t) => [t.hostId, t.state]));
    expect(Object.fromEntries(states)).toEqual({ [keep.id]: "succeeded", [gone.id]: "cancelled" });
  });
});

describe("drift", () => {
  it("records host.drift and calls the webhook when a compliant host starts accepting TLS 1.0", async () => {
    const received: Array<{ body: unknown; contentType: string | undefined }> = [];
    const hook = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ body: JSON.parse(body), contentType: req.headers["content-type"] });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    try {
      await setSetting(testActor, "driftWebhookUrl", `http://127.0.0.1:${(hook.address() as AddressInfo).port}/drift`);
      const server = await smtp({ min: "TLSv1.2", max: "TLSv1.3" });
      const host = await makeHost("drift", "127.0.0.1", [{ port: server.port }]);

      const first = await createScanJob(testActor, { hostIds: [host.id] });
      await jobWhenTerminal(first.jobId);
      expect((await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: host.id } })).status).toBe("compliant");
      // Nothing failed, so there is nothing to retry.
      await expect(retryFailedTasks(testActor, first.jobId)).rejects.toThrow(/no failed or unreachable hosts/);
      expect(await prisma.auditEvent.count({ where: { action: "host.drift", target: `host:${host.name}` } })).toBe(0);

      await server.setVersions("TLSv1", "TLSv1.3");
      const second = await createScanJob(testActor, { hostIds: [host.id] });
      await jobWhenTerminal(second.jobId);
      const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: host.id } });
      expect(status.status).toBe("noncompliant");
      expect(status.explanation).toMatch(new RegExp(`^TLS 1\\.0 and TLS 1\\.1 accepted on ${server.port}/smtp`));

      const drift = await prisma.auditEvent.findMany({ where: { action: "host.drift", target: `host:${host.name}` } });
      expect(drift).toHaveLength(1);
      expect(drift[0]!.details).toMatchObject({ from: "compliant", to: "noncompliant" });
      const history = await prisma.statusHistory.findMany({ where: { hostId: host.id }, orderBy: { id: "asc" } });
      expect(history.map((h) => [h.previous, h.status])).toEqual([
        ["unknown", "compliant"],
        ["compliant", "noncompliant"],
      ]);

      await waitFor("the drift webhook", async () => received.length > 0, 10_000);
      expect(received).toHaveLength(1);
      expect(received[0]!.contentType).toBe("application/json");
      expect(received[0]!.body).toMatchObject({ event: "host.drift", host: { id: host.id, name: host.name }, from: "compliant", to: "noncompliant" });
    } finally {
      await setSetting(testActor, "driftWebhookUrl", null);
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});
