// The one Prisma client (Rust-free: queries go through @prisma/adapter-pg). No "server-only" import
// here, because the CLI and the worker load this file outside Next; lib/db.ts re-exports it for
// the app, and code in lib/<domain>/ that touches it carries "server-only" itself.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";
import { env } from "../env";
import { withSerialTransactions } from "./serial-transactions";

// Kept on globalThis so that Next's dev server, which re-evaluates modules on every edit, reuses
// one client (and one connection pool) instead of opening a new pool per reload.
const globalForPrisma = globalThis as unknown as { __tlsfleetPrisma?: PrismaClient };

/** The shared client, created on first use: importing this module needs no DATABASE_URL. */
export function getPrisma(): PrismaClient {
  const existing = globalForPrisma.__tlsfleetPrisma;
  if (existing) return existing;
  const connectionString = env.DATABASE_URL;
  if (!connectionString) {
    throw new Error("DATABASE_URL is not set: start tlsfleet with `tlsfleet start` (embedded database) or set DATABASE_URL");
  }
  const client = new PrismaClient({ adapter: withSerialTransactions(new PrismaPg({ connectionString, max: env.TLSFLEET_DB_POOL_SIZE })) });
  globalForPrisma.__tlsfleetPrisma = client;
  return client;
}

/**
 * `prisma.host.findMany(...)` etc., resolved on first property access. Modules can import it at
 * top level, before the CLI has started the embedded database and set DATABASE_URL.
 */
export const prisma: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const client = getPrisma();
    const value: unknown = Reflect.get(client, property, client);
    return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(client) : value;
  },
  has(_target, property) {
    return Reflect.has(getPrisma(), property);
  },
});

/** The client an interactive transaction's callback gets (`prisma.$transaction(async (tx) => ...)`). */
export type Tx = Parameters<Parameters<typeof prisma.$transaction>[0]>[0];

/** Closes the pool (CLI exit, tests). The next use of `prisma` connects again, to the then DATABASE_URL. */
export async function disconnectPrisma(): Promise<void> {
  const client = globalForPrisma.__tlsfleetPrisma;
  globalForPrisma.__tlsfleetPrisma = undefined;
  if (client) await client.$disconnect();
}
