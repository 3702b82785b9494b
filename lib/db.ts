// The one Prisma client for the app. It lives in lib/db/client.ts (no "server-only" there, so the
// CLI and the worker can load it); this path is the one app and lib code import.
export { prisma, getPrisma, disconnectPrisma } from "./db/client";
export type { Tx } from "./db/client";
export type { Prisma, PrismaClient } from "./generated/prisma/client";
