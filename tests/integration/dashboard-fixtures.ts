// Shared by the dashboard-*.test.ts files. The Overview counts the WHOLE fleet, and other test files
// leave hosts behind in the shared test database, so each dashboard file works in a database of
// its own: created next to DATABASE_URL's (as the global setup prepared it), migrated with the
// project's real migration path, dropped afterwards.
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { reloadEnv } from "@/lib/env";
import { disconnectPrisma } from "@/lib/db";
import { migrate } from "@/lib/db/migrate";

async function admin(base: string, sql: string) {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Registers beforeAll/afterAll that point `prisma` at a fresh, migrated database for this file. */
export function withOwnDatabase(label: string) {
  const name = `tlsfleet_test_dash_${label}`;
  let base: string | undefined;
  beforeAll(async () => {
    base = process.env.DATABASE_URL;
    if (!base) throw new Error("DATABASE_URL is not set (the integration global setup provides it)");
    await admin(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin(base, `CREATE DATABASE "${name}"`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    await disconnectPrisma();
    process.env.DATABASE_URL = url.toString();
    reloadEnv();
    await migrate({ url: url.toString() });
  });
  afterAll(async () => {
    await disconnectPrisma();
    if (!base) return;
    process.env.DATABASE_URL = base;
    reloadEnv();
    await admin(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

export const days = (n: number) => n * 86_400_000;
