// A tlsfleet process using the embedded PostgreSQL, for embedded-recovery.test.ts. Run as
// `node --import tsx <this file> <hold|once> <dataDir>` without DATABASE_URL:
//   hold   start (or reuse) the server, print {"ready":…}, keep it until SIGTERM, then stop it
//   once   start (or reuse) it, insert a row into a marker table, print the row count, stop
// Errors are printed as {"error": message}.
import pg from "pg";
import { ensureDatabase, type DatabaseHandle } from "../../lib/db/database";

let started: DatabaseHandle | undefined;

async function main(): Promise<void> {
  const [mode, dataDir] = process.argv.slice(2);
  const db = (started = await ensureDatabase({ dataDir }));
  if (mode === "hold") {
    process.on("SIGTERM", () => void db.stop().then(() => process.exit(0)));
    process.stdout.write(JSON.stringify({ ready: db.url }) + "\n");
    setInterval(() => undefined, 60_000);
    return;
  }
  // The marker table is created as the owner: the app role has no CREATE on schema public.
  const client = new pg.Client({ connectionString: db.ownerUrl });
  await client.connect();
  await client.query("CREATE TABLE IF NOT EXISTS recovery_marker (at timestamptz NOT NULL DEFAULT now())");
  await client.query("INSERT INTO recovery_marker DEFAULT VALUES");
  const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM recovery_marker");
  await client.end();
  await db.stop();
  process.stdout.write(JSON.stringify({ count: Number(rows[0].n) }) + "\n");
}

main().catch(async (e: unknown) => {
  process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + "\n");
  // A server this process started would keep it alive (and the test waiting): stop it first.
  await started?.stop().catch(() => undefined);
  process.exit(1);
});
