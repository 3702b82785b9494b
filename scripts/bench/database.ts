// The PostgreSQL a benchmark runs against: DATABASE_URL's server when set (CI style), otherwise
// the embedded one under .data/bench (started here). `url` names `database` on that server;
// `stop` stops the embedded server if this process started it. Below: databases created, dropped
// and seeded on that server.
import bcrypt from "bcryptjs";
import pg from "pg";
import { BENCH_ADMIN } from "./support";
import { seedBench } from "./ui-seed";

export async function benchDatabase(database: string): Promise<{ url: string; stop: () => Promise<void> }> {
  let base = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!base) {
    process.env.DATA_DIR ??= ".data/bench";
    const { reloadEnv } = await import("../../lib/env");
    reloadEnv();
    const { ensureDatabase } = await import("../../lib/db/database");
    const db = await ensureDatabase();
    base = db.ownerUrl;
    stop = () => db.stop();
  }
  const url = new URL(base);
  url.pathname = `/${database}`;
  return { url: url.toString(), stop: () => stop() };
}

/** Runs one statement on the server's `postgres` database (CREATE/DROP DATABASE). */
export async function adminQuery(url: string, sql: string) {
  const u = new URL(url);
  u.pathname = "/postgres";
  return withClient(u.toString(), (c) => c.query(sql));
}

/** Drops `database` on url's server (if it is there) and creates it empty. */
export async function recreateDatabase(url: string, database: string): Promise<void> {
  await dropDatabase(url, database);
  await adminQuery(url, `CREATE DATABASE "${database}"`);
}

export async function dropDatabase(url: string, database: string): Promise<void> {
  await adminQuery(url, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}

/**
 * `database` (at url) holding scripts/bench/ui-seed.ts's data for `hosts` hosts, 10 probe results
 * per endpoint and BENCH_ADMIN, migrated to this checkout. Seeding takes minutes at 50,000
 * hosts, so a database that already holds that many hosts is reused unless `reseed`.
 */
export async function prepareSeededDatabase(
  url: string,
  database: string,
  opts: { hosts: number; reseed: boolean },
  hooks: { log: (line: string) => void; onReuse?: (c: pg.Client) => Promise<void>; afterSeed?: (c: pg.Client) => Promise<void> },
): Promise<void> {
  const { migrate } = await import("../../lib/db/migrate");
  const exists = (await adminQuery(url, `SELECT 1 FROM pg_database WHERE datname = '${database}'`)).rowCount === 1;
  if (exists && !opts.reseed) {
    const reused = await withClient(url, async (c) => {
      const hosts = await c.query(`SELECT count(*)::int AS n FROM "Host"`).catch(() => null);
      const probes = await c.query(`SELECT count(*)::int AS n FROM "ProbeResult"`).catch(() => null);
      if (hosts?.rows[0].n !== opts.hosts || !probes || probes.rows[0].n === 0) return false;
      hooks.log(`reusing ${database}: ${hosts.rows[0].n} hosts, ${probes.rows[0].n} probe results (--reseed to start over)`);
      const applied = await migrate({ url });
      if (applied.length) hooks.log(`applied migrations: ${applied.join(", ")}`);
      await hooks.onReuse?.(c);
      return true;
    });
    if (reused) return;
  }
  hooks.log(`creating ${database}`);
  await recreateDatabase(url, database);
  await migrate({ url });
  await withClient(url, async (c) => {
    const t0 = performance.now();
    await seedBench(c, { hosts: opts.hosts, probesPerEndpoint: 10 }, BENCH_ADMIN.email, await bcrypt.hash(BENCH_ADMIN.password, 10), hooks.log);
    await hooks.afterSeed?.(c);
    hooks.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  });
}

/** Runs fn with a client connected to url, and ends it. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
