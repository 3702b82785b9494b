// The Overview's numbers on a seeded inventory in a real Postgres: counts per status, the "mail
// flow at risk" list, the longest-failing ordering, failing hosts per group, and the end-of-day
// trend derived from StatusHistory (and frozen into ComplianceDaily once a day has closed).
import { beforeEach, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { purgeHosts } from "../support/purge-hosts";
import { forgetGroupBreakdown, getOverview } from "@/lib/dashboard/overview";
import { complianceTrend } from "@/lib/dashboard/trend";
import { deleteHosts } from "@/lib/inventory/hosts";
import type { HostStatusValue } from "@/lib/compliance/status";
import { days, withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("overview");

interface Seed {
  name: string;
  status: HostStatusValue;
  group?: string | null;
  firstFailingAt?: Date | null;
  explanation?: string;
  createdAt?: Date;
}

async function seed(hosts: Seed[]) {
  const ids: Record<string, string> = {};
  for (const h of hosts) {
    const host = await prisma.host.create({
      data: {
        name: h.name,
        address: "192.0.2.1",
        group: h.group ?? null,
        createdAt: h.createdAt,
        status: { create: { status: h.status, explanation: h.explanation ?? `${h.status} because of a test`, firstFailingAt: h.firstFailingAt ?? null } },
      },
    });
    ids[h.name] = host.id;
  }
  return ids;
}

async function reset() {
  await purgeHosts();
  await prisma.statusHistory.deleteMany();
  await prisma.complianceDaily.deleteMany();
}

describe("overview", () => {
  beforeEach(reset);

  it("is empty for a new install", async () => {
    const o = await getOverview();
    expect(o.total).toBe(0);
    expect(o.atRisk).toEqual([]);
    expect(o.longestFailing).toEqual([]);
    expect(o.byGroup.groups).toEqual([]);
    expect(o.trend).toEqual([]);
  });

  it("counts hosts per status and lists at-risk and longest-failing hosts in order", async () => {
    const now = Date.now();
    await seed([
      { name: "ok-1", status: "compliant", group: "HQ" },
      { name: "ok-2", status: "compliant", group: "HQ" },
      { name: "old-tls-recent", status: "noncompliant", group: "HQ", firstFailingAt: new Date(now - days(2)) },
      { name: "old-tls-ancient", status: "noncompliant", group: "Branch", firstFailingAt: new Date(now - days(40)) },
      { name: "no-tls12", status: "at_risk", group: "Branch", firstFailingAt: new Date(now - days(10)), explanation: "TLS 1.2 not accepted on 25/smtp at 2026-11-20 10:00 UTC: mail flow with Microsoft 365 fails" },
      { name: "no-starttls", status: "at_risk", group: null, firstFailingAt: new Date(now - days(1)) },
      { name: "split-brain", status: "mismatch", group: "Branch", firstFailingAt: new Date(now - days(20)) },
      { name: "down", status: "unreachable", group: "DMZ" },
      { name: "new", status: "unknown", group: "DMZ" },
      { name: "waived", status: "excepted", group: "DMZ" },
      { name: "rebooting", status: "pending_reboot", group: "HQ" },
    ]);

    const o = await getOverview();
    expect(o.total).toBe(11);
    expect(o.counts).toEqual({ compliant: 2, noncompliant: 2, at_risk: 2, mismatch: 1, unreachable: 1, unknown: 1, excepted: 1, pending_reboot: 1, error: 0 });

    // At risk: only at_risk hosts, failing longest first, with the explanation an operator reads.
    expect(o.atRisk.map((h) => h.name)).toEqual(["no-tls12", "no-starttls"]);
    expect(o.atRisk[0].explanation).toContain("TLS 1.2 not accepted on 25/smtp");

    // Longest failing: every failing status, oldest firstFailingAt first; never-failing hosts absent.
    expect(o.longestFailing.map((h) => h.name)).toEqual(["old-tls-ancient", "split-brain", "no-tls12", "old-tls-recent", "no-starttls"]);

    // By group: failing count and total per group, most failing first, ties by failing share;
    // hosts without a group are a row of their own.
    expect(o.byGroup.groupCount).toBe(4);
    expect(o.byGroup.groups).toEqual([
      { group: "Branch", failing: 3, total: 3 },
      { group: null, failing: 1, total: 1 },
      { group: "HQ", failing: 1, total: 4 },
      { group: "DMZ", failing: 0, total: 3 },
    ]);
  });

  it("limits the lists but not the counts", async () => {
    await seed(Array.from({ length: 15 }, (_, i) => ({ name: `r${String(i).padStart(2, "0")}`, status: "at_risk" as const, firstFailingAt: new Date(Date.UTC(2026, 0, 1 + i)) })));
    const o = await getOverview({ listLimit: 5 });
    expect(o.counts.at_risk).toBe(15);
    expect(o.atRisk.map((h) => h.name)).toEqual(["r00", "r01", "r02", "r03", "r04"]);
  });
});

describe("compliance trend", () => {
  beforeEach(reset);

  const NOW = new Date("2026-11-28T12:00:00Z");
  const at = (iso: string) => new Date(iso);

  async function history(hostId: string, rows: Array<[string, HostStatusValue, HostStatusValue | null]>) {
    for (const [iso, status, previous] of rows) {
      await prisma.statusHistory.create({ data: { hostId, at: at(iso), status, previous, explanation: "test" } });
    }
  }

  it("counts each host's status at the end of every day, from its history", async () => {
    const ids = await seed([
      // Scanned on the 24th: noncompliant; fixed on the 26th.
      { name: "a", status: "compliant", createdAt: at("2026-11-23T09:00:00Z") },
      // Never scanned since it was added on the 25th.
      { name: "b", status: "unknown", createdAt: at("2026-11-25T09:00:00Z") },
      // Flapped three times on the 27th; only the last status of the day counts.
      { name: "c", status: "at_risk", createdAt: at("2026-11-23T09:00:00Z") },
    ]);
    await history(ids.a, [["2026-11-24T10:00:00Z", "noncompliant", null], ["2026-11-26T10:00:00Z", "compliant", "noncompliant"]]);
    await history(ids.c, [
      ["2026-11-24T11:00:00Z", "compliant", null],
      ["2026-11-27T08:00:00Z", "unreachable", "compliant"],
      ["2026-11-27T09:00:00Z", "compliant", "unreachable"],
      ["2026-11-27T23:59:00Z", "at_risk", "compliant"],
    ]);

    const trend = await complianceTrend({ now: NOW, days: 7 });
    const byDay = Object.fromEntries(trend.map((d) => [d.day, d.counts]));
    // Days before the first host existed are left out.
    expect(trend.map((d) => d.day)).toEqual(["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]);
    expect(byDay["2026-11-23"]).toMatchObject({ unknown: 2, compliant: 0, noncompliant: 0 });
    expect(byDay["2026-11-24"]).toMatchObject({ noncompliant: 1, compliant: 1, unknown: 0 });
    expect(byDay["2026-11-25"]).toMatchObject({ noncompliant: 1, compliant: 1, unknown: 1 });
    expect(byDay["2026-11-26"]).toMatchObject({ compliant: 2, unknown: 1, noncompliant: 0 });
    expect(byDay["2026-11-27"]).toMatchObject({ compliant: 1, at_risk: 1, unknown: 1, unreachable: 0 });
    expect(byDay["2026-11-28"]).toMatchObject({ compliant: 1, at_risk: 1, unknown: 1 });
    expect(trend.every((d) => d.total === Object.values(d.counts).reduce((a, b) => a + b, 0))).toBe(true);
  });

  it("freezes closed days into ComplianceDaily and reads them back instead of recomputing", async () => {
    const ids = await seed([{ name: "a", status: "compliant", createdAt: at("2026-11-20T09:00:00Z") }]);
    await history(ids.a, [["2026-11-26T10:00:00Z", "compliant", null]]);

    await complianceTrend({ now: NOW, days: 5 });
    const frozen = await prisma.complianceDaily.findMany({ orderBy: [{ day: "asc" }, { status: "asc" }] });
    const frozenDays = [...new Set(frozen.map((r) => r.day.toISOString().slice(0, 10)))];
    // Today (the 28th) is still open: never frozen. Every status row is written, zeros included.
    expect(frozenDays).toEqual(["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]);
    expect(frozen.length).toBe(4 * 9);

    // A frozen day is history: rewriting what happened afterwards does not change it.
    await prisma.statusHistory.deleteMany();
    const again = await complianceTrend({ now: NOW, days: 5 });
    expect(again.find((d) => d.day === "2026-11-26")!.counts.compliant).toBe(1);
    expect(again.find((d) => d.day === "2026-11-24")!.counts.unknown).toBe(1);
  });

  it("does not freeze a day until a quarter of an hour after it ended", async () => {
    await seed([{ name: "a", status: "unknown", createdAt: at("2026-11-20T09:00:00Z") }]);
    await complianceTrend({ now: at("2026-11-28T00:10:00Z"), days: 2 });
    const frozenDays = new Set((await prisma.complianceDaily.findMany()).map((r) => r.day.toISOString().slice(0, 10)));
    expect([...frozenDays]).toEqual([]);
    await complianceTrend({ now: at("2026-11-28T00:20:00Z"), days: 2 });
    const later = new Set((await prisma.complianceDaily.findMany()).map((r) => r.day.toISOString().slice(0, 10)));
    expect([...later]).toEqual(["2026-11-27"]);
  });

  it("leaves out hosts deleted since, when a day is computed fresh", async () => {
    const ids = await seed([
      { name: "kept", status: "noncompliant", createdAt: at("2026-11-20T09:00:00Z") },
      { name: "gone", status: "noncompliant", createdAt: at("2026-11-20T09:00:00Z") },
    ]);
    await history(ids.kept, [["2026-11-25T10:00:00Z", "noncompliant", null]]);
    await history(ids.gone, [["2026-11-25T10:00:00Z", "noncompliant", null]]);
    await deleteHosts({ id: "00000000-0000-4000-8000-0000000000d1", email: "overview-tests@example.test" }, [ids.gone]);
    // The 24th is derived backwards through the 25th, when both hosts were first scanned: only the
    // kept host's change may be undone, or the deleted one would reappear as "unknown".
    const trend = await complianceTrend({ now: NOW, days: 5 });
    expect(trend.map((d) => d.counts.noncompliant)).toEqual([0, 1, 1, 1, 1]);
    expect(trend.map((d) => d.counts.unknown)).toEqual([1, 0, 0, 0, 0]);
  });
});

describe("overview of a large inventory", () => {
  beforeEach(async () => {
    await reset();
    forgetGroupBreakdown();
  });

  it("reuses the group breakdown for a while and says when it was computed; the status counts stay current", async () => {
    const ids = await seed([
      { name: "a", status: "noncompliant", group: "g1" },
      { name: "b", status: "compliant", group: "g1" },
    ]);
    // A threshold of 1 host makes this two-host inventory "large".
    const first = await getOverview({ groupsReuseAbove: 1 });
    expect(first.byGroup.asOf).toBeUndefined();
    const second = await getOverview({ groupsReuseAbove: 1 });
    expect(second.byGroup.asOf).toBeInstanceOf(Date);
    expect(second.byGroup.groups).toEqual([{ group: "g1", failing: 1, total: 2 }]);

    await prisma.hostStatus.update({ where: { hostId: ids.b }, data: { status: "noncompliant" } });
    const third = await getOverview({ groupsReuseAbove: 1 });
    expect(third.counts.noncompliant).toBe(2);
    expect(third.byGroup.groups).toEqual([{ group: "g1", failing: 1, total: 2 }]);
    expect(third.byGroup.asOf).toEqual(second.byGroup.asOf);

    forgetGroupBreakdown();
    const fresh = await getOverview({ groupsReuseAbove: 1 });
    expect(fresh.byGroup.groups).toEqual([{ group: "g1", failing: 2, total: 2 }]);
    expect(fresh.byGroup.asOf).toBeUndefined();
  });

  it("computes the breakdown on every visit at or below the threshold", async () => {
    const ids = await seed([{ name: "a", status: "compliant", group: "g1" }]);
    await getOverview({ groupsReuseAbove: 1 });
    await prisma.hostStatus.update({ where: { hostId: ids.a }, data: { status: "at_risk" } });
    const o = await getOverview({ groupsReuseAbove: 1 });
    expect(o.byGroup.asOf).toBeUndefined();
    expect(o.byGroup.groups).toEqual([{ group: "g1", failing: 1, total: 1 }]);
  });
});

describe("overview lists of hosts without a failing time", () => {
  beforeEach(async () => {
    await reset();
    forgetGroupBreakdown();
  });

  it("lists excepted hosts failing-time first, then by name, whichever way the previous visit's counts say to read them", async () => {
    await seed([
      { name: "x-c", status: "excepted" },
      { name: "x-a", status: "excepted" },
      { name: "x-old", status: "excepted", firstFailingAt: new Date(Date.UTC(2026, 0, 1)) },
      { name: "x-b", status: "excepted" },
      { name: "ok", status: "compliant" },
    ]);
    // First visit: no previous counts (the rare-status read); second: excepted is 80% of the hosts (the name walk).
    const first = await getOverview({ listLimit: 3 });
    const second = await getOverview({ listLimit: 3 });
    expect(first.excepted.map((h) => h.name)).toEqual(["x-old", "x-a", "x-b"]);
    expect(second.excepted.map((h) => h.name)).toEqual(["x-old", "x-a", "x-b"]);
  });
});
