// The PostgreSQL a benchmark runs against: DATABASE_URL's server when set (CI style), otherwise
// the embedded one under .data/bench (started here). `url` names `database` on that server;
// `stop` stops the embedded server if this process started it.
import pg from "pg";

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
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
