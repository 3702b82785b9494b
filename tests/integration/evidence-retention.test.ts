// Deleting or renaming a host keeps its evidence (real Postgres): probe results, config snapshots,
// tasks, rollout rows, exceptions, status history and audit stay keyed by the host's id; a deleted
// host is retired, leaves the inventory and frees its name, and still shows up in exports for the
// period it existed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { updateHostStatus } from "@/lib/compliance/update";
import { countByStatus, createHost, deleteHosts, deleteHostsMatching, hostIdsMatching, listHosts, updateHost } from "@/lib/inventory/hosts";
import { hostsExistingDuring, nameAt } from "@/lib/inventory/history";
import { HostInput } from "@/lib/inventory/model";
import { resolveJobHosts } from "@/lib/jobs/create";
import { getOverview } from "@/lib/dashboard/overview";
import { getBoss, stopBoss } from "@/lib/jobs/queue";
import { advanceRollout } from "@/lib/rollout/controller";
import { RolloutSettings } from "@/lib/rollout/settings";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("evidence");

const actor = { id: "00000000-0000-4000-8000-0000000000e1", email: "evidence-tests@example.test" };
const hostInput = (name: string) => HostInput.parse({ name, address: "192.0.2.10", roles: ["postfix"], endpoints: "25/smtp" }); // address: data only, never dialled

/** A host with one of every kind of evidence: a probe result, a snapshot, a status change, an open task, a rollout row, an exception. */
async function hostWithEvidence(name: string) {
  const host = await createHost(actor, hostInput(name));
  const endpoint = await prisma.endpoint.findFirstOrThrow({ where: { hostId: host.id } });
  await prisma.probeResult.create({
    data: { endpointId: endpoint.id, starttls: "offered", verdict: "noncompliant", protocols: { TLSv1: { outcome: "accepted", reason: null }, "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" } },
  });
  await prisma.configSnapshot.create({ data: { hostId: host.id, playbook: "postfix", state: { summary: "smtpd_tls_protocols = >=TLSv1" }, raw: "smtpd_tls_protocols = >=TLSv1" } });
  await updateHostStatus(host.id);
  const job = await prisma.job.create({ data: { kind: "scan", state: "queued", target: { hostIds: [host.id] }, parameters: {} } });
  await prisma.jobTask.create({ data: { jobId: job.id, hostId: host.id, state: "queued" } });
  const rollout = await prisma.rollout.create({ data: { goals: ["disable-legacy"], state: "planned", target: { hostIds: [host.id] }, settings: {}, requestedBy: actor.email } });
  await prisma.rolloutHost.create({ data: { rolloutId: rollout.id, hostId: host.id, hostName: name, state: "planned" } });
  await prisma.exception.create({ data: { hostId: host.id, version: "TLSv1", justification: "fax gateway until Q1", expiresAt: new Date(Date.now() + 86_400_000), requestedById: actor.id } });
  return { host, endpoint, jobId: job.id, rolloutId: rollout.id };
}

async function evidenceOf(hostId: string) {
  return {
    results: await prisma.probeResult.count({ where: { endpoint: { hostId } } }),
    snapshots: await prisma.configSnapshot.count({ where: { hostId } }),
    history: await prisma.statusHistory.count({ where: { hostId } }),
    tasks: await prisma.jobTask.count({ where: { hostId } }),
    rolloutHosts: await prisma.rolloutHost.count({ where: { hostId } }),
    exceptions: await prisma.exception.count({ where: { hostId } }),
  };
}

describe("deleting a host", () => {
  let doomed: Awaited<ReturnType<typeof hostWithEvidence>>;
  let before: Awaited<ReturnType<typeof evidenceOf>>;
  let deletedAt: Date;
  beforeAll(async () => {
    doomed = await hostWithEvidence("mx-doomed.evidence.test");
    await createHost(actor, hostInput("mx-kept.evidence.test"));
    before = await evidenceOf(doomed.host.id);
    expect(Object.values(before).every((n) => n >= 1)).toBe(true);
    deletedAt = new Date();
    expect(await deleteHosts(actor, [doomed.host.id])).toBe(1);
  });

  it("keeps every piece of its evidence, keyed by its id", async () => {
    expect(await evidenceOf(doomed.host.id)).toEqual(before);
    const host = await prisma.host.findUniqueOrThrow({ where: { id: doomed.host.id } });
    expect(host.name).toBe("mx-doomed.evidence.test");
    expect(host.retiredAt).toBeInstanceOf(Date);
    expect(await prisma.auditEvent.count({ where: { action: "host.delete", target: "host:mx-doomed.evidence.test" } })).toBe(1);
  });

  it("takes it out of the inventory, the counts, scans and status", async () => {
    const page = await listHosts({ sort: "name", dir: "asc", limit: 50 });
    expect(page.rows.map((r) => r.name)).toEqual(["mx-kept.evidence.test"]);
    expect(page.total).toBe(1);
    expect(Object.values(await countByStatus({ q: "evidence" })).reduce((a, b) => a + b, 0)).toBe(1);
    expect((await getOverview()).total).toBe(1);
    expect(await hostIdsMatching({})).not.toContain(doomed.host.id);
    await expect(resolveJobHosts({ hostIds: [doomed.host.id] }, (m) => new Error(m))).rejects.toThrow(/no longer exist|None of the selected hosts/);
    expect(await updateHostStatus(doomed.host.id)).toBeNull();
    expect(await prisma.hostStatus.count({ where: { hostId: doomed.host.id } })).toBe(0);
  });

  it("cancels its open task with the reason, and the job finishes", async () => {
    const task = await prisma.jobTask.findFirstOrThrow({ where: { hostId: doomed.host.id } });
    expect(task).toMatchObject({ state: "cancelled", error: expect.stringMatching(/host was deleted/) });
    // As when a task went with its deleted host: the job was not cancelled, it ran out of hosts.
    expect((await prisma.job.findUniqueOrThrow({ where: { id: doomed.jobId } })).state).toBe("succeeded");
    expect(await prisma.rolloutHost.findFirstOrThrow({ where: { rolloutId: doomed.rolloutId } })).toMatchObject({ hostId: doomed.host.id, hostName: "mx-doomed.evidence.test" });
  });

  it("frees its name for a new host, which starts without the old one's evidence", async () => {
    const again = await createHost(actor, hostInput("mx-doomed.evidence.test"));
    expect(again.id).not.toBe(doomed.host.id);
    expect((await evidenceOf(again.id)).results).toBe(0);
    await expect(createHost(actor, hostInput("mx-doomed.evidence.test"))).rejects.toThrow(/already exists/);
    await deleteHosts(actor, [again.id]);
  });

  it("still appears in exports for the period it existed, and not after", async () => {
    const during = await hostsExistingDuring(new Date(deletedAt.getTime() - 3_600_000), deletedAt);
    expect(during.map((h) => h.id)).toContain(doomed.host.id);
    const after = await hostsExistingDuring(new Date(Date.now() + 1000), new Date(Date.now() + 3_600_000));
    expect(after.map((h) => h.id)).not.toContain(doomed.host.id);
  });

  it("cannot be removed from under its evidence, not even by hand", async () => {
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "Host" WHERE id = '${doomed.host.id}'`)).rejects.toThrow(/foreign key|violates/);
  });

  it("retires hosts matching a filter the same way", async () => {
    const a = await hostWithEvidence("bulk-a.evidence.test");
    const n = await deleteHostsMatching(actor, { q: "bulk-" });
    expect(n).toBe(1);
    expect((await evidenceOf(a.host.id)).results).toBe(1);
    expect(await deleteHostsMatching(actor, { q: "bulk-" })).toBe(0);
  });
});

describe("renaming a host", () => {
  it("keeps its evidence and its name history; exports show the name as of the time", async () => {
    const { host } = await hostWithEvidence("old-name.evidence.test");
    const before = await evidenceOf(host.id);
    await updateHost(actor, host.id, hostInput("new-name.evidence.test"));
    expect(await evidenceOf(host.id)).toEqual(before);
    const names = await prisma.hostName.findMany({ where: { hostId: host.id }, orderBy: { from: "asc" } });
    expect(names.map((n) => [n.name, n.until === null])).toEqual([["old-name.evidence.test", false], ["new-name.evidence.test", true]]);
    const [during] = (await hostsExistingDuring(new Date(host.createdAt.getTime() - 1000), new Date(Date.now() + 1000))).filter((h) => h.id === host.id);
    expect(during!.names.map((n) => n.name)).toEqual(["old-name.evidence.test", "new-name.evidence.test"]);
    expect(nameAt(during!, host.createdAt)).toBe("old-name.evidence.test");
    expect(nameAt(during!, new Date(Date.now() + 500))).toBe("new-name.evidence.test");
    // The old name is free again.
    const reuse = await createHost(actor, hostInput("old-name.evidence.test"));
    expect(reuse.id).not.toBe(host.id);
  });
});

describe("a host deleted during a rollout", () => {
  beforeAll(async () => {
    await getBoss();
  });
  afterAll(async () => {
    await stopBoss();
  });

  it("is skipped with that reason, keeps its row, and gets no remediation task", async () => {
    const kept = await createHost(actor, hostInput("rollout-kept.evidence.test"));
    const gone = await createHost(actor, hostInput("rollout-gone.evidence.test"));
    const rollout = await prisma.rollout.create({
      data: { goals: ["disable-legacy"], state: "running", target: { hostIds: [kept.id, gone.id] }, settings: RolloutSettings.parse({ canarySize: 0 }) as never, requestedBy: actor.email, startedAt: new Date() },
    });
    for (const h of [kept, gone]) await prisma.rolloutHost.create({ data: { rolloutId: rollout.id, hostId: h.id, hostName: h.name, state: "planned", wave: 0, plan: {} } });
    await deleteHosts(actor, [gone.id]);
    await advanceRollout(rollout.id);
    const rows = await prisma.rolloutHost.findMany({ where: { rolloutId: rollout.id }, orderBy: { hostName: "asc" } });
    expect(rows.map((r) => [r.hostName, r.hostId, r.state, r.reason])).toEqual([
      ["rollout-gone.evidence.test", gone.id, "skipped", "the host was deleted during the rollout"],
      ["rollout-kept.evidence.test", kept.id, "planned", null],
    ]);
    const tasks = await prisma.jobTask.findMany({ where: { job: { kind: "remediate", parameters: { path: ["rolloutId"], equals: rollout.id } } }, select: { hostId: true } });
    expect(tasks).toEqual([{ hostId: kept.id }]);
  });
});
