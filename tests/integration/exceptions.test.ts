// The exception workflow on a real Postgres: request, approval by another admin (self-approval
// refused), the host shown "excepted" with the justification, revoke and reject, and the expiry
// sweep returning the host to its real status with a host.drift event.
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { updateHostStatus } from "@/lib/compliance/update";
import { approveException, ExceptionError, getException, listExceptions, rejectException, requestException, revokeException, sweepExpiredExceptions } from "@/lib/exceptions/service";
import { ExceptionRequestInput } from "@/lib/exceptions/model";
import { createHost, deleteHosts } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("exceptions");

const HOUR = 3_600_000;
let operator: { id: string; email: string };
let admin: { id: string; email: string };
let secondAdmin: { id: string; email: string };

async function user(email: string, role: "operator" | "admin") {
  const u = await prisma.user.create({ data: { email, role, passwordHash: "x" } });
  return { id: u.id, email: u.email };
}

/** A host whose port 25 accepts TLS 1.0 (so it is noncompliant) and whose port 587 is clean. */
async function legacyHost(name: string) {
  const host = await createHost(operator, HostInput.parse({ name, address: "192.0.2.30", roles: ["postfix"], endpoints: "25/smtp;587/submission" })); // address: data only, never dialled
  const endpoints = await prisma.endpoint.findMany({ where: { hostId: host.id } });
  for (const e of endpoints) {
    await prisma.probeResult.create({
      data: { endpointId: e.id, starttls: "offered", verdict: e.port === 25 ? "noncompliant" : "compliant", protocols: { TLSv1: e.port === 25 ? "accepted" : "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" } },
    });
  }
  await updateHostStatus(host.id);
  return host;
}

const statusOf = async (hostId: string) => prisma.hostStatus.findUniqueOrThrow({ where: { hostId } });
const request = (hostId: string, over: Record<string, unknown> = {}) =>
  ExceptionRequestInput.parse({ hostId, endpointPort: 25, version: "TLSv1", justification: "Fax gateway speaks only TLS 1.0; replaced in Q1 (CHG-1042)", expiresAt: new Date(Date.now() + 24 * HOUR), ...over });

beforeAll(async () => {
  operator = await user("exc-operator@example.test", "operator");
  admin = await user("exc-admin@example.test", "admin");
  secondAdmin = await user("exc-admin2@example.test", "admin");
});

describe("an exception's lifecycle", () => {
  it("is requested by an operator, approved by an admin, and the host shows excepted with the justification", async () => {
    const host = await legacyHost("mx-fax.exceptions.test");
    expect((await statusOf(host.id)).status).toBe("noncompliant");
    const requested = await requestException(operator, request(host.id));
    expect(requested).toMatchObject({ state: "pending", scope: "TLS 1.0 on port 25", requestedBy: operator.email, hostName: "mx-fax.exceptions.test" });
    // Pending does not count.
    expect((await statusOf(host.id)).status).toBe("noncompliant");
    expect((await listExceptions("pending")).map((x) => x.id)).toContain(requested.id);

    const approved = await approveException(admin, requested.id);
    expect(approved).toMatchObject({ state: "approved", approvedBy: admin.email });
    const status = await statusOf(host.id);
    expect(status.status).toBe("excepted");
    expect(status.explanation).toMatch(/TLS 1.0 accepted on 25\/smtp/);
    expect(status.explanation).toMatch(/excepted until .* UTC: Fax gateway speaks only TLS 1.0/);
    expect(await prisma.auditEvent.findMany({ where: { target: "host:mx-fax.exceptions.test", action: { startsWith: "exception." } }, orderBy: { id: "asc" }, select: { action: true, actor: true } })).toEqual([
      { action: "exception.requested", actor: operator.email },
      { action: "exception.approved", actor: admin.email },
    ]);
    await expect(approveException(secondAdmin, requested.id)).rejects.toThrow(/is approved/);
  });

  it("refuses the requester's own approval and rejection, even an admin's", async () => {
    const host = await legacyHost("mx-self.exceptions.test");
    const mine = await requestException(admin, request(host.id));
    const refusal = await approveException(admin, mine.id).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ExceptionError);
    expect(refusal).toMatchObject({ status: 403, message: expect.stringMatching(/another admin must approve/) });
    await expect(rejectException(admin, mine.id)).rejects.toThrow(/another admin/);
    expect((await getException(mine.id))!.state).toBe("pending");
    expect((await statusOf(host.id)).status).toBe("noncompliant");
    await approveException(secondAdmin, mine.id);
    expect((await statusOf(host.id)).status).toBe("excepted");
  });

  it("refuses an expiry in the past or more than a year ahead, and an endpoint the host does not have", async () => {
    const host = await legacyHost("mx-dates.exceptions.test");
    await expect(requestException(operator, request(host.id, { expiresAt: new Date(Date.now() - HOUR) }))).rejects.toThrow(/in the future/);
    await expect(requestException(operator, request(host.id, { expiresAt: new Date(Date.now() + 400 * 24 * HOUR) }))).rejects.toThrow(/at most 365 days/);
    await expect(requestException(operator, request(host.id, { endpointPort: 993 }))).rejects.toThrow(/no endpoint on port 993/);
    expect(await prisma.exception.count({ where: { hostId: host.id } })).toBe(0);
  });

  it("does not hide a finding on an endpoint it does not name", async () => {
    const host = await legacyHost("mx-other.exceptions.test");
    const x = await requestException(operator, request(host.id, { endpointPort: 587 }));
    await approveException(admin, x.id);
    expect((await statusOf(host.id)).status).toBe("noncompliant");
  });

  it("is revocable: the host gets its real status back, with a drift event", async () => {
    const host = await legacyHost("mx-revoke.exceptions.test");
    const x = await requestException(operator, request(host.id));
    await approveException(admin, x.id);
    expect((await statusOf(host.id)).status).toBe("excepted");
    const revoked = await revokeException(secondAdmin, x.id, "the gateway was replaced early");
    expect(revoked).toMatchObject({ state: "revoked", revokedBy: secondAdmin.email, decisionNote: "the gateway was replaced early" });
    expect((await statusOf(host.id)).status).toBe("noncompliant");
    expect(await prisma.auditEvent.count({ where: { action: "exception.revoked", target: "host:mx-revoke.exceptions.test" } })).toBe(1);
    expect((await prisma.auditEvent.findFirstOrThrow({ where: { action: "host.drift", target: "host:mx-revoke.exceptions.test" } })).details).toMatchObject({ from: "excepted", to: "noncompliant" });
    await expect(revokeException(admin, x.id)).rejects.toThrow(/revoked already/);
  });

  it("is rejected with a note and then counts for nothing", async () => {
    const host = await legacyHost("mx-reject.exceptions.test");
    const x = await requestException(operator, request(host.id));
    expect(await rejectException(admin, x.id, "fix it instead")).toMatchObject({ state: "rejected", rejectedBy: admin.email, decisionNote: "fix it instead" });
    await expect(approveException(secondAdmin, x.id)).rejects.toThrow(/is rejected/);
    expect((await statusOf(host.id)).status).toBe("noncompliant");
    expect(await prisma.auditEvent.count({ where: { action: "exception.rejected", target: "host:mx-reject.exceptions.test" } })).toBe(1);
  });
});

describe("a deleted host's exceptions", () => {
  it("stay as evidence and can no longer be approved", async () => {
    const host = await legacyHost("mx-retired.exceptions.test");
    const x = await requestException(operator, request(host.id));
    await deleteHosts(admin, [host.id]);
    await expect(approveException(admin, x.id)).rejects.toThrow(/was deleted/);
    expect(await getException(x.id)).toMatchObject({ state: "pending", hostRetired: true, justification: expect.stringMatching(/Fax gateway/) });
    await expect(requestException(operator, request(host.id))).rejects.toThrow(/not in the inventory/);
  });
});

describe("the expiry sweep", () => {
  it("returns the host to its real status at expiry and raises host.drift, once", async () => {
    const host = await legacyHost("mx-expiry.exceptions.test");
    const expiresAt = new Date(Date.now() + 2 * HOUR);
    const x = await requestException(operator, request(host.id, { expiresAt }));
    await approveException(admin, x.id);
    expect((await statusOf(host.id)).status).toBe("excepted");

    // Before the expiry nothing happens.
    await sweepExpiredExceptions(new Date(expiresAt.getTime() - 60_000));
    expect((await statusOf(host.id)).status).toBe("excepted");

    const after = new Date(expiresAt.getTime() + 60_000);
    expect(await sweepExpiredExceptions(after)).toBeGreaterThanOrEqual(1);
    const status = await statusOf(host.id);
    expect(status.status).toBe("noncompliant");
    expect(status.explanation).toMatch(/TLS 1.0 accepted on 25\/smtp/);
    const drift = await prisma.auditEvent.findMany({ where: { action: "host.drift", target: "host:mx-expiry.exceptions.test" } });
    expect(drift).toHaveLength(1);
    expect(drift[0]!.details).toMatchObject({ from: "excepted", to: "noncompliant" });
    expect(await prisma.auditEvent.count({ where: { action: "exception.expired", target: "host:mx-expiry.exceptions.test" } })).toBe(1);
    expect((await getException(x.id, after))!.state).toBe("expired");

    // A second sweep (or a second worker) finds nothing left to do for it.
    await sweepExpiredExceptions(new Date(after.getTime() + 60_000));
    expect(await prisma.auditEvent.count({ where: { action: "exception.expired", target: "host:mx-expiry.exceptions.test" } })).toBe(1);
    expect(await prisma.auditEvent.count({ where: { action: "host.drift", target: "host:mx-expiry.exceptions.test" } })).toBe(1);
  });
});
