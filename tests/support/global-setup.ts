// Vitest globalSetup of the integration project: one fresh, migrated database per run.
//
// The server is DATABASE_URL's when set (CI: the machine's PostgreSQL 15), otherwise the embedded
// PostgreSQL under .data/test (started here, stopped at teardown if this run started it). On it,
// `tlsfleet_test_<random>` is created and migrated with the project's real migration path
// (lib/db/migrate.ts), handed to the tests as DATABASE_URL (inherited by the test workers, which
// start after this) and as inject("databaseUrl"), and dropped at the end together with any
// database a test derived from it (tests/support/db.ts names those `<run database>_<label>_...`).
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { ensureDatabase } from "../../lib/db/database";
import { migrate } from "../../lib/db/migrate";
import { reloadEnv } from "../../lib/env";
import { adminQuery, databaseUrl, dropDatabasesLike } from "./db";

declare module "vitest" {
  export interface ProvidedContext {
    /** The migrated database of this test run. */
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await ensureDatabase({ dataDir: ".data/test" });
  const name = `tlsfleet_test_${randomBytes(4).toString("hex")}`;
  await adminQuery(server.ownerUrl, `CREATE DATABASE "${name}"`);
  const url = databaseUrl(server.ownerUrl, name);
  try {
    await migrate({ url });
  } catch (error) {
    await dropDatabasesLike(server.ownerUrl, name);
    await server.stop();
    throw error;
  }
  process.env.DATABASE_URL = url;
  reloadEnv();
  project.provide("databaseUrl", url);

  return async () => {
    await dropDatabasesLike(server.ownerUrl, name);
    await server.stop();
  };
}
