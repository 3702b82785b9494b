// Shared by the dashboard-*.test.ts files. The Overview counts the WHOLE fleet, and other test files
// leave hosts behind in the run's database, so each dashboard file works in a migrated database of
// its own (tests/support/db.ts freshDatabase), and `prisma` is pointed at it for that file.
import { afterAll, beforeAll } from "vitest";
import { reloadEnv } from "@/lib/env";
import { disconnectPrisma } from "@/lib/db";
import { freshDatabase, type ThrowawayDatabase } from "../support/db";

/** Registers beforeAll/afterAll that point `prisma` at a fresh, migrated database for this file. */
export function withOwnDatabase(label: string) {
  let db: ThrowawayDatabase | undefined;
  let base: string | undefined;
  beforeAll(async () => {
    base = process.env.DATABASE_URL;
    db = await freshDatabase({ label: `dash_${label}`, migrated: true });
    await disconnectPrisma();
    process.env.DATABASE_URL = db.url;
    reloadEnv();
  });
  afterAll(async () => {
    await disconnectPrisma();
    if (base) {
      process.env.DATABASE_URL = base;
      reloadEnv();
    }
    await db?.drop();
  });
}

export const days = (n: number) => n * 86_400_000;
