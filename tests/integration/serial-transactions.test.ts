// Relation reads inside an interactive transaction, through the real adapter and PostgreSQL
// (lib/db/serial-transactions.ts): Prisma fetches a read's relations in parallel, which on a
// transaction's single connection made pg warn that pg@9 will refuse it. Through our client the
// statements reach the connection one at a time: no warning, and the results are the same.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("serial_tx");

const warnings: string[] = [];
const onWarning = (w: Error) => {
  if (w.message.includes("already executing a query")) warnings.push(w.message);
};

beforeAll(async () => {
  process.on("warning", onWarning);
  await prisma.host.create({
    data: {
      name: "serial-tx.example.test",
      address: "198.18.0.200",
      status: { create: { status: "compliant", explanation: "TLS 1.0/1.1 rejected" } },
      endpoints: { create: [{ port: 25, service: "smtp", tlsStart: "starttls" }, { port: 587, service: "submission", tlsStart: "starttls" }] },
    },
  });
});

afterAll(() => {
  process.off("warning", onWarning);
});

describe("a transaction's statements", () => {
  it("reach its connection one at a time when a read fetches several relations", async () => {
    const include = { status: true, endpoints: { orderBy: { port: "asc" as const } }, configSnapshots: true, exceptions: true, credential: true } as const;
    for (let i = 0; i < 5; i++) {
      const [host, count] = await prisma.$transaction(
        async (tx) => [await tx.host.findFirstOrThrow({ where: { name: "serial-tx.example.test" }, include }), await tx.endpoint.count()] as const,
        { isolationLevel: "RepeatableRead" },
      );
      expect(host.status?.status).toBe("compliant");
      expect(host.endpoints.map((e) => e.port)).toEqual([25, 587]);
      expect(count).toBe(2);
    }
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual([]);
  });

  it("a failing statement fails its transaction and the next one still runs", async () => {
    await expect(prisma.$transaction(async (tx) => {
      await tx.host.findFirstOrThrow({ where: { name: "serial-tx.example.test" }, include: { status: true, endpoints: true } });
      await tx.$executeRawUnsafe("SELECT no_such_column FROM \"Host\"");
    })).rejects.toThrow(/no_such_column/);
    const host = await prisma.$transaction((tx) => tx.host.findFirstOrThrow({ where: { name: "serial-tx.example.test" }, include: { endpoints: true } }));
    expect(host.endpoints).toHaveLength(2);
  });
});
