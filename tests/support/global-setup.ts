// Vitest globalSetup of the integration project: one fresh, migrated database per run.
//
// The server is DATABASE_URL's when set (CI: the machine's PostgreSQL 15), otherwise the embedded
// PostgreSQL under .data/test (started here, stopped at teardown if this run started it). On it,
// `tlsfleet_test_<random>` is created and migrated with the project's real migration path
// (lib/db/migrate.ts), handed to the tests as DATABASE_URL (inherited by the test workers, which
// start after this) and as inject("databaseUrl"), and dropped at the end together with any
// database a test derived from it (tests/support/db.ts names those `<run database>_<label>_...`).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureCredentialKeyPair } from "../../lib/credentials/key-files";
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
  // A credential key pair of this run, held by the test processes as a worker holds it (they
  // create credentials and open them in one process). tests/integration/credential-custody.test.ts
  // checks the split between a web and a worker process.
  const keyDir = mkdtempSync(path.join(tmpdir(), "tlsfleet-test-keys-"));
  const keys = ensureCredentialKeyPair(path.join(keyDir, "keys"));
  process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY = keys.publicKey;
  process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS = keys.privateKeyFiles.join(",");
  reloadEnv();
  project.provide("databaseUrl", url);

  return async () => {
    rmSync(keyDir, { recursive: true, force: true });
    await dropDatabasesLike(server.ownerUrl, name);
    await server.stop();
  };
}
