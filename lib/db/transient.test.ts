import { describe, expect, it } from "vitest";
import { isTransientDbError, retryTransient } from "./transient";

// Error shapes as the drivers produced them (see the header of transient.ts); built by hand here.
const prismaRaw = (cause: object) => Object.assign(new Error("Raw query failed"), { name: "PrismaClientKnownRequestError", code: "P2010", meta: { driverAdapterError: { name: "DriverAdapterError", cause } } });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { name: "error", code });

describe("isTransientDbError", () => {
  it.each([
    ["a fast shutdown through Prisma (57P01)", prismaRaw({ kind: "postgres", code: "57P01", originalCode: "57P01" }), true],
    ["an unreachable server through Prisma (P1001)", Object.assign(new Error("Can't reach"), { code: "P1001" }), true],
    ["an unreachable server in a raw query", prismaRaw({ kind: "DatabaseNotReachable", host: "127.0.0.1", port: 1 }), true],
    ["a server starting up, through pg-boss (57P03)", pgError("57P03", "the database system is starting up"), true],
    ["a dropped socket", new Error("Connection terminated unexpectedly"), true],
    ["a transaction on a client whose socket died", new Error("Client has encountered a connection error and is not queryable"), true],
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), true],
    ["wrapped as a cause", new Error("task failed", { cause: pgError("57P01", "terminating connection") }), true],
    ["a unique violation", pgError("23505", "duplicate key value"), false],
    ["a missing table through Prisma", Object.assign(new Error("table does not exist"), { code: "P2021", meta: { driverAdapterError: { cause: { kind: "TableDoesNotExist", originalCode: "42P01" } } } }), false],
    ["a serialization failure (the caller decides)", pgError("40001", "could not serialize access"), false],
    ["anything else", new Error("boom"), false],
    ["not an error", "57P01", false],
  ])("%s", (_what, err, transient) => {
    expect(isTransientDbError(err)).toBe(transient);
  });
});

describe("retryTransient", () => {
  it("retries a transient error and returns the later result", async () => {
    let calls = 0;
    const result = await retryTransient(async () => {
      calls++;
      if (calls < 3) throw pgError("57P03", "the database system is starting up");
      return "written";
    });
    expect(result).toBe("written");
    expect(calls).toBe(3);
  });

  it("throws other errors at once", async () => {
    let calls = 0;
    await expect(
      retryTransient(async () => {
        calls++;
        throw pgError("23505", "duplicate key value");
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(calls).toBe(1);
  });

  it("gives up after maxMs with the last error", async () => {
    await expect(retryTransient(() => Promise.reject(pgError("57P01", "terminating connection")), { maxMs: 0 })).rejects.toThrow(/terminating/);
  });
});
