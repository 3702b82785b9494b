// Saved host-list filters in the Setting table: per user, normalised through the list's parser,
// replaced by name, deletable, and every change audited.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { prisma, disconnectPrisma } from "@/lib/db";
import { deleteSavedFilter, listSavedFilters, normaliseFilterQuery, saveFilter } from "@/lib/inventory/saved-filters";
import { InventoryError } from "@/lib/inventory/hosts";

const alice = { id: randomUUID(), email: "alice@example.test" };
const bob = { id: randomUUID(), email: "bob@example.test" };

afterAll(async () => {
  await prisma.setting.deleteMany({ where: { key: { in: [`savedFilters:${alice.id}`, `savedFilters:${bob.id}`] } } });
  await disconnectPrisma();
});

describe("saved filters", () => {
  it("normalises the query: no cursor or page size, defaults dropped, repeated statuses kept", () => {
    expect(normaliseFilterQuery("?status=noncompliant&status=at_risk&tag=PCI&cursor=abc&limit=200&sort=name&dir=asc&q=")).toBe("status=noncompliant%2Cat_risk&tag=pci");
    expect(normaliseFilterQuery("sort=lastScanAt&dir=desc")).toBe("sort=lastScanAt&dir=desc");
    expect(() => normaliseFilterQuery("status=bogus")).toThrow(InventoryError);
  });

  it("keeps each user's filters apart, replaces by name and deletes by id", async () => {
    const a1 = await saveFilter(alice, { name: "Windows", query: "platform=windows" });
    await saveFilter(alice, { name: "Broken", query: "status=noncompliant" });
    await saveFilter(bob, { name: "Mine", query: "group=Dublin" });
    // Same name (any case) replaces the earlier filter instead of adding a second one.
    const a3 = await saveFilter(alice, { name: "windows", query: "platform=windows&role=iis" });

    const list = await listSavedFilters(alice.id);
    expect(list.map((f) => [f.name, f.query])).toEqual([
      ["Broken", "status=noncompliant"],
      ["windows", "platform=windows&role=iis"],
    ]);
    expect(list.find((f) => f.id === a1.id)).toBeUndefined();
    expect((await listSavedFilters(bob.id)).map((f) => f.name)).toEqual(["Mine"]);

    await deleteSavedFilter(alice, a3.id);
    expect((await listSavedFilters(alice.id)).map((f) => f.name)).toEqual(["Broken"]);
    await expect(deleteSavedFilter(alice, a3.id)).rejects.toThrow(/no longer exists/);
    // Bob cannot delete Alice's filter: ids are looked up in his own list only.
    const broken = (await listSavedFilters(alice.id))[0];
    await expect(deleteSavedFilter(bob, broken.id)).rejects.toThrow(/no longer exists/);

    const events = await prisma.auditEvent.findMany({ where: { actorId: alice.id }, orderBy: { id: "asc" } });
    expect(events.map((e) => `${e.action} ${e.target}`)).toEqual(["filter.save filter:Windows", "filter.save filter:Broken", "filter.save filter:windows", "filter.delete filter:windows"]);
  });

  it("saves concurrently without losing a filter", async () => {
    const carol = { id: randomUUID(), email: "carol@example.test" };
    await Promise.all(Array.from({ length: 8 }, (_, i) => saveFilter(carol, { name: `f${i}`, query: `tag=t${i}` })));
    expect((await listSavedFilters(carol.id)).map((f) => f.name)).toEqual(["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"]);
    await prisma.setting.delete({ where: { key: `savedFilters:${carol.id}` } });
  });
});
