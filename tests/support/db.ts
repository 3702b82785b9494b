// Database helpers for integration tests. The run's migrated database comes from
// tests/support/global-setup.ts; tests that need an empty one, or one of their own, get a
// throwaway database on the same server, named after the run's so teardown drops leftovers.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../lib/db/migrate";

/** Runs one statement on its own connection (CREATE/DROP DATABASE refuse transactions). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<R>(sql, values);
  } finally {
    await client.end();
  }
}

/** The same server and credentials, another database. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Drops `name` and every database named `name_...` (FORCE: a test may have left a pool open). */
export async function dropDatabasesLike(url: string, name: string): Promise<void> {
  const { rows } = await adminQuery<{ datname: string }>(
    url,
    "SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_')",
    [name],
  );
  for (const { datname } of rows) await adminQuery(url, `DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`);
}

/** The migrated database of this run (set by the global setup). */
export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: run integration tests through vitest (--project integration)");
  return url;
}

export interface ThrowawayDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A new database next to the run's, empty unless `migrated` (then through the real migration
 * path). Drop it in afterAll/afterEach; the global teardown drops forgotten ones.
 */
export async function freshDatabase(options: { label?: string; migrated?: boolean } = {}): Promise<ThrowawayDatabase> {
  const base = testDatabaseUrl();
  const label = (options.label ?? "tmp").toLowerCase().replace(/[^a-z0-9_]/g, "_");
  // PostgreSQL truncates identifiers at 63 bytes; keep the random suffix inside them.
  const name = `${databaseName(base)}_${label}`.slice(0, 54) + `_${randomBytes(4).toString("hex")}`;
  await adminQuery(base, `CREATE DATABASE ${quote(name)}`);
  const url = databaseUrl(base, name);
  if (options.migrated) await migrate({ url });
  return {
    name,
    url,
    drop: () => adminQuery(base, `DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`).then(() => undefined),
  };
}
