// Prints the URL of a new, empty database on DATABASE_URL's server: `tlsfleet_<label>` is dropped
// and created again. Used by the test runner for the end-to-end database.
import pg from "pg";

async function main() {
  const label = (process.argv[2] ?? "scratch").replace(/[^a-z0-9_]/gi, "");
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error("DATABASE_URL is not set");
  const name = `tlsfleet_${label}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  process.stdout.write(url.toString());
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
