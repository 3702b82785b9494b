// A test file's own database: for files that count or scan the whole fleet (other files leave
// hosts behind in the run's database) or need a queue of their own.
import { afterAll, beforeAll } from "vitest";
import { reloadEnv } from "../../lib/env";
import { disconnectPrisma } from "../../lib/db";
import { freshDatabase, type ThrowawayDatabase } from "./db";

/**
 * Registers beforeAll/afterAll that point this process at a fresh, migrated database for the file
 * (tests/support/db.ts names it after the run's, so the global teardown drops it even if the file
 * dies) and back afterwards, dropping it then. `disconnect` runs before prisma lets go of a database
 * (both ways); `connected` once the file's database is the one in use.
 */
export function ownDatabaseForFile(label: string, hooks: { disconnect?: () => Promise<void>; connected?: () => Promise<void> } = {}): { url: () => string } {
  let base: string | undefined;
  let db: ThrowawayDatabase | undefined;
  beforeAll(async () => {
    base = process.env.DATABASE_URL;
    db = await freshDatabase({ label, migrated: true });
    await hooks.disconnect?.();
    await disconnectPrisma();
    process.env.DATABASE_URL = db.url;
    reloadEnv();
    await hooks.connected?.();
  });
  afterAll(async () => {
    await hooks.disconnect?.();
    await disconnectPrisma();
    if (base) {
      process.env.DATABASE_URL = base;
      reloadEnv();
    }
    await db?.drop();
  });
  return {
    url: () => {
      if (!db) throw new Error(`the ${label} test database is not ready yet`);
      return db.url;
    },
  };
}
