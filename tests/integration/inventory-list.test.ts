// The host list against the real database: every filter selects what it says, every sort walks
// page by page (deep cursors included) through exactly the rows an unpaginated query returns,
// counts per status match, and the streamed export writes the same rows as valid CSV.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma, disconnectPrisma } from "@/lib/db";
import { purgeHosts } from "../support/purge-hosts";
import { HOST_STATUSES, type HostStatusValue } from "@/lib/compliance/status";
import { parseHostListParams, SORT_KEYS, type HostListParamsValue } from "@/lib/inventory/filter";
import { countByStatus, countsForList, deleteHosts, deleteHostsMatching, hostIdsMatching, InventoryError, listHosts } from "@/lib/inventory/hosts";
import { commitImport, sha256Hex } from "@/lib/inventory/import";
import { EXPORT_COLUMNS, hostsCsvStream } from "@/lib/inventory/export";
import { parseCsv } from "@/lib/inventory/csv";

const actor = { id: randomUUID(), email: "lister@example.test" };
const P = `lst${Date.now().toString(36)}`;
const N = 1500;
const GROUPS = ["Frankfurt", "Dublin", null, "Ashburn"];
const SEVERITY: HostStatusValue[] = ["noncompliant", "at_risk", "mismatch", "pending_reboot", "error", "unreachable", "unknown", "excepted", "compliant"];

interface Fixture {
  id: string;
  name: string;
  group: string | null;
  platform: "linux" | "windows" | "other";
  roles: string[];
  tags: string[];
  owner: string;
  status: HostStatusValue;
  lastScanAt: Date | null;
  firstFailingAt: Date | null;
}
let fixtures: Fixture[] = [];

function params(p: Record<string, string>): HostListParamsValue {
  const r = parseHostListParams({ q: P, ...p });
  if (!r.success) throw new Error(r.error.message);
  return r.data;
}

async function walk(p: HostListParamsValue) {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await listHosts({ ...p, cursor });
    pages++;
    ids.push(...page.rows.map((r) => r.id));
    if (!page.nextCursor) return { ids, pages };
    expect(page.rows).toHaveLength(p.limit);
    cursor = page.nextCursor;
  }
}

/** The reference order, written against the real columns rather than the list's sort expressions. */
async function referenceOrder(sort: (typeof SORT_KEYS)[number], dir: "asc" | "desc"): Promise<string[]> {
  const d = dir === "desc" ? "DESC" : "ASC";
  // Empty values (no group, never scanned, not failing) come last in both directions.
  const order = {
    name: `h."name" ${d}`,
    status: `array_position(ARRAY['${SEVERITY.join("','")}']::text[], s."status"::text) ${d}`,
    group: `h."group" ${d} NULLS LAST`,
    lastScanAt: `s."lastScanAt" ${d} NULLS LAST`,
    firstFailingAt: `s."firstFailingAt" ${d} NULLS LAST`,
  }[sort];
  const rows = await prisma.$queryRawUnsafe<Array<{ id: string }>>(
    `SELECT h."id"::text AS id FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h."id" WHERE h."name" LIKE $1 ORDER BY ${order}, h."id" ${d}`,
    `${P}-%`,
  );
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  const lines = ["name,address,platform,roles,tags,group,owner"];
  for (let i = 0; i < N; i++) {
    const platform = (["linux", "windows", "other"] as const)[i % 3];
    const roles = platform === "windows" ? "exchange" : i % 2 ? "postfix" : "nginx";
    const tags = ["prod", i % 4 === 0 ? "pci" : "", i % 10 === 0 ? "eu" : ""].filter(Boolean).join(";");
    const owner = i % 50 === 0 ? `=cmd|' /C calc'!A0 team ${i}` : `team-${i % 9}`;
    lines.push(`${P}-h${String(i).padStart(4, "0")}.example.test,10.1.${i >> 8}.${i & 255},${platform},${roles},${tags},${GROUPS[i % 4] ?? ""},"${owner.replace(/"/g, '""')}"`);
  }
  const text = lines.join("\n");
  await commitImport(actor, text, sha256Hex(Buffer.from(text)));
  // Statuses and times with many ties, so the id tie-breaker of the keyset is exercised.
  await prisma.$executeRawUnsafe(
    `UPDATE "HostStatus" s SET
       "status" = (ARRAY['${HOST_STATUSES.join("','")}']::"ComplianceStatus"[])[1 + (substring(h."name" from '-h(\\d+)')::int % 9)],
       "lastScanAt" = CASE WHEN substring(h."name" from '-h(\\d+)')::int % 5 = 0 THEN NULL ELSE timestamp '2026-11-01 00:00' + (substring(h."name" from '-h(\\d+)')::int % 17) * interval '1 hour' END,
       "firstFailingAt" = CASE WHEN substring(h."name" from '-h(\\d+)')::int % 3 = 0 THEN timestamp '2026-10-01 00:00' + (substring(h."name" from '-h(\\d+)')::int % 11) * interval '1 day' ELSE NULL END,
       "explanation" = 'fixture ' || h."name"
     FROM "Host" h WHERE h."id" = s."hostId" AND h."name" LIKE $1`,
    `${P}-%`,
  );
  const rows = await prisma.host.findMany({ where: { name: { startsWith: `${P}-` } }, include: { status: true } });
  fixtures = rows.map((h) => ({
    id: h.id,
    name: h.name,
    group: h.group,
    platform: h.platform,
    roles: h.roles,
    tags: h.tags,
    owner: h.owner ?? "",
    status: h.status!.status as HostStatusValue,
    lastScanAt: h.status!.lastScanAt,
    firstFailingAt: h.status!.firstFailingAt,
  }));
  expect(fixtures).toHaveLength(N);
});

afterAll(async () => {
  await purgeHosts(`${P}-`);
  await disconnectPrisma();
});

describe("listHosts", () => {
  it.each(SORT_KEYS.flatMap((sort) => (["asc", "desc"] as const).map((dir) => [sort, dir] as const)))("sort %s %s walks every host once, in order", async (sort, dir) => {
    const { ids } = await walk(params({ sort, dir, limit: "97" }));
    expect(new Set(ids).size).toBe(N);
    expect(ids).toEqual(await referenceOrder(sort, dir));
  });

  it.each([
    ["status", "desc"],
    ["lastScanAt", "asc"],
    ["group", "desc"],
  ] as const)("deep cursor pages of 7 rows through heavy ties and NULLs (%s %s) skip and repeat nothing", async (sort, dir) => {
    const { ids, pages } = await walk(params({ sort, dir, limit: "7" }));
    expect(pages).toBe(Math.ceil(N / 7));
    expect(ids).toEqual(await referenceOrder(sort, dir));
  });

  function matches(f: Fixture, filter: Record<string, string>, ignoreStatus = false) {
    return (
      (ignoreStatus || !filter.status || filter.status.split(",").includes(f.status)) &&
      (!filter.tag || f.tags.includes(filter.tag.toLowerCase())) &&
      (!filter.group || f.group === filter.group) &&
      (!filter.platform || f.platform === filter.platform) &&
      (!filter.role || f.roles.includes(filter.role))
    );
  }

  it.each<Record<string, string>>([{ status: "noncompliant,at_risk" }, { tag: "PCI" }, { group: "Dublin" }, { platform: "windows" }, { role: "nginx" }, { tag: "eu", platform: "linux", status: "compliant" }])(
    "filter %j selects exactly the matching hosts and counts them",
    async (filter) => {
      const p = params({ ...filter, limit: "500" });
      const { ids } = await walk(p);
      const expected = fixtures.filter((f) => matches(f, filter)).map((f) => f.id).sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(ids.sort()).toEqual(expected);
      expect((await hostIdsMatching(p)).sort()).toEqual(expected);

      const page = await listHosts(p);
      expect(page.total).toBe(expected.length);
      // Status chips count the other filters but not the status one, so every chip shows its number.
      const expectedCounts = Object.fromEntries(HOST_STATUSES.map((s) => [s, 0]));
      for (const f of fixtures) if (matches(f, filter, true)) expectedCounts[f.status]++;
      expect(page.counts).toEqual(expectedCounts);
    },
  );

  it("free text matches name, address or owner, and treats % and _ literally", async () => {
    const byOwner = await listHosts(params({ q: "team-7", limit: "500" }));
    expect(byOwner.rows.filter((r) => r.name.startsWith(P)).length).toBe(fixtures.filter((f) => f.owner === "team-7").length);
    const literal = await listHosts(params({ q: `${P}%h0001` }));
    expect(literal.rows).toEqual([]);
    const byAddress = await listHosts({ ...params({}), q: "10.1.5.1" });
    expect(byAddress.rows.map((r) => r.address)).toContain("10.1.5.1");
  });

  it("counts per status agree with the fixtures", async () => {
    const counts = await countByStatus({ q: P });
    for (const s of HOST_STATUSES) expect(counts[s]).toBe(fixtures.filter((f) => f.status === s).length);
  });

  it("estimates the counts of a host-side filter matching more hosts than the exact-count limit, and says so", async () => {
    // The estimate scales a sample by the row counts of the last ANALYZE; with fewer hosts than
    // the sample size the sample is the whole table, so it must come out exact.
    await prisma.$executeRawUnsafe(`ANALYZE "Host", "HostStatus"`);
    const estimated = await countsForList({ q: P }, { exactCountLimit: 100 });
    expect(estimated.approximate).toBe(true);
    const exact = await countByStatus({ q: P });
    for (const s of HOST_STATUSES) expect(estimated.counts[s]).toBe(exact[s]);
    const page = await listHosts(params({}));
    expect(page.approximate).toBe(false);
    expect(page.counts).toEqual(exact);
  });

  it("counts exactly when a host-side filter matches fewer hosts than the exact-count limit, or the inventory is small", async () => {
    await prisma.$executeRawUnsafe(`ANALYZE "Host", "HostStatus"`);
    const few = await countsForList({ q: `${P}-h0001` }, { exactCountLimit: 100 });
    expect(few.approximate).toBe(false);
    expect(Object.values(few.counts).reduce((a, b) => a + b, 0)).toBe(fixtures.filter((f) => f.name.startsWith(`${P}-h0001`)).length);
    expect((await countsForList({ status: ["compliant"] })).approximate).toBe(false);
  });

  it("estimates the counts of a status-only filter from a sample of HostStatus above the exact-count limit", async () => {
    await prisma.$executeRawUnsafe(`ANALYZE "Host", "HostStatus"`);
    const estimated = await countsForList({ status: ["compliant"] }, { exactCountLimit: 100 });
    expect(estimated.approximate).toBe(true);
    // Fewer hosts than the sample size: the sample is the whole table.
    expect(estimated.counts).toEqual(await countByStatus({}));
  });

  it("takes repeated status parameters from a GET form as a list", () => {
    const r = parseHostListParams(new URLSearchParams("status=noncompliant&status=at_risk&tag=&q=x"));
    expect(r.success && r.data.status).toEqual(["noncompliant", "at_risk"]);
    expect(r.success && r.data.tag).toBeUndefined();
  });

  it("refuses a forged cursor with a message for the user", async () => {
    await expect(listHosts({ ...params({}), cursor: "not-a-cursor" })).rejects.toBeInstanceOf(InventoryError);
  });
});

describe("CSV export stream", () => {
  async function readAll(stream: ReadableStream<Uint8Array>) {
    const chunks: Uint8Array[] = [];
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    return { text: Buffer.concat(chunks).toString("utf8"), chunks: chunks.length };
  }

  it("writes every matching host once, in the list's order, across many pages", async () => {
    const p = params({ sort: "lastScanAt", dir: "desc" });
    const { text, chunks } = await readAll(hostsCsvStream(p, { pageSize: 200 }));
    expect(chunks).toBeGreaterThanOrEqual(Math.ceil(N / 200));
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const records = parseCsv(text);
    expect(records[0].fields).toEqual([...EXPORT_COLUMNS]);
    const rows = records.slice(1);
    expect(rows).toHaveLength(N);
    const byId = new Map(fixtures.map((f) => [f.name, f]));
    const order = await referenceOrder("lastScanAt", "desc");
    const idOfName = new Map(fixtures.map((f) => [f.name, f.id]));
    expect(rows.map((r) => idOfName.get(r.fields[0]))).toEqual(order);

    const col = (name: (typeof EXPORT_COLUMNS)[number]) => EXPORT_COLUMNS.indexOf(name);
    for (const r of rows.slice(0, 300)) {
      const f = byId.get(r.fields[0])!;
      expect(r.fields).toHaveLength(EXPORT_COLUMNS.length);
      expect(r.fields[col("status")]).toBe(f.status);
      expect(r.fields[col("explanation")]).toBe(`fixture ${f.name}`);
      expect(r.fields[col("lastScanAt")]).toBe(f.lastScanAt ? f.lastScanAt.toISOString() : "");
      expect(r.fields[col("firstFailingAt")]).toBe(f.firstFailingAt ? f.firstFailingAt.toISOString() : "");
      expect(r.fields[col("group")]).toBe(f.group ?? "");
      expect(r.fields[col("endpoints")]).toBe(f.roles.includes("nginx") ? "443/https" : "25/smtp;587/submission");
    }
    // A spreadsheet must not run the owner cell as a formula.
    const evil = rows.find((r) => r.fields[col("owner")].includes("calc"))!;
    expect(evil.fields[col("owner")].startsWith("'=")).toBe(true);
  });

  it("exports only the filtered hosts", async () => {
    const { text } = await readAll(hostsCsvStream(params({ platform: "windows", tag: "pci" }), { pageSize: 50 }));
    const names = parseCsv(text).slice(1).map((r) => r.fields[0]).sort();
    expect(names).toEqual(fixtures.filter((f) => f.platform === "windows" && f.tags.includes("pci")).map((f) => f.name).sort());
  });
});

describe("bulk delete", () => {
  it("deletes by filter and by id list in one statement each, with one audit event", async () => {
    const before = await prisma.auditEvent.count({ where: { action: "host.delete", actorId: actor.id } });
    const filter = params({ group: "Ashburn", platform: "other" });
    const expected = fixtures.filter((f) => f.group === "Ashburn" && f.platform === "other");
    expect(await deleteHostsMatching(actor, filter)).toBe(expected.length);
    expect((await listHosts(filter)).total).toBe(0);
    const some = fixtures.filter((f) => f.group === "Dublin").map((f) => f.id);
    expect(await deleteHosts(actor, some)).toBe(some.length);
    expect(await prisma.host.count({ where: { id: { in: some }, retiredAt: null } })).toBe(0);
    expect(await prisma.auditEvent.count({ where: { action: "host.delete", actorId: actor.id } })).toBe(before + 2);
  });
});
