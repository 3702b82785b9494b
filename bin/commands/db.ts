// `tlsfleet db ...`: database migrations without Prisma's native schema engine (see
// lib/db/migrate.ts). Works on DATABASE_URL, or on the embedded PostgreSQL, which it starts for the
// command and stops afterwards (unless it was already running, e.g. under `tlsfleet start`).
// Static imports: this module is itself loaded lazily by main.ts, only for `tlsfleet db`.
import { ensureDatabase, type DatabaseHandle } from "../../lib/db/database";
import * as migrations from "../../lib/db/migrate";
import { parseSubcommand } from "./cli";

const USAGE = `usage: tlsfleet db <command>

  migrate                      apply pending migrations from prisma/migrations
  create-migration NAME        write prisma/migrations/<timestamp>_NAME/migration.sql for the
                               changes in prisma/schema.prisma (NAME: a-z, 0-9, _)
  status                       compare prisma/migrations with the database
                               (exit 0 when up to date, 1 otherwise)
  resolve --rolled-back NAME   after fixing a failed migration by hand: let migrate run it again
  resolve --applied NAME       after completing a failed migration by hand: record it as applied`;

type Parsed =
  | { command: "migrate" }
  | { command: "status" }
  | { command: "create-migration"; name: string }
  | { command: "resolve"; name: string; as: "rolled-back" | "applied" };

function parse(argv: string[]): Parsed | string {
  const [command, ...rest] = argv;
  switch (command) {
    case "migrate":
    case "status":
      return rest.length === 0 ? { command } : `unexpected arguments: ${rest.join(" ")}`;
    case "create-migration":
      return rest.length === 1 && rest[0] && !rest[0].startsWith("-") ? { command, name: rest[0] } : "create-migration takes exactly one NAME";
    case "resolve": {
      const [flag, name, ...extra] = rest;
      if ((flag === "--rolled-back" || flag === "--applied") && name && extra.length === 0) {
        return { command, name, as: flag === "--rolled-back" ? "rolled-back" : "applied" };
      }
      return "resolve takes --rolled-back NAME or --applied NAME";
    }
    case undefined:
      return "missing command";
    default:
      return `unknown command '${command}'`;
  }
}

/** Where the command works, without the password. */
function describe(db: DatabaseHandle): string {
  const url = new URL(db.ownerUrl);
  const where = `${url.hostname}:${url.port || "5432"}${url.pathname}`;
  return db.embedded ? `embedded PostgreSQL (${where})` : where;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseSubcommand("db", USAGE, argv, parse);
  if (typeof parsed === "number") return parsed;
  if (parsed.command === "create-migration" && !migrations.MIGRATION_NAME.test(parsed.name)) {
    console.error(`tlsfleet db: invalid migration name '${parsed.name}': use lower-case letters, digits and underscores (e.g. add_host_notes)`);
    return 2;
  }

  let db: DatabaseHandle;
  try {
    db = await ensureDatabase();
  } catch (error) {
    console.error(`tlsfleet db: no database: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  // Ctrl-C mid-command: stop the embedded server we started (pg_ctl put it in its own session, so
  // the terminal's SIGINT does not reach it) instead of leaving it running without an owner.
  const onSignal = (signal: NodeJS.Signals) => {
    void db.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await execute(parsed, db);
  } catch (error) {
    console.error(`tlsfleet db: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await db.stop();
  }
}

async function execute(parsed: Parsed, db: DatabaseHandle): Promise<number> {
  switch (parsed.command) {
    case "migrate": {
      const started = Date.now();
      const applied = await migrations.migrate({ url: db.ownerUrl });
      if (applied.length === 0) {
        console.log(`No pending migrations (${describe(db)}).`);
      } else {
        for (const name of applied) console.log(`Applied ${name}`);
        console.log(`${applied.length} migration(s) applied to ${describe(db)} in ${Date.now() - started} ms.`);
      }
      return 0;
    }
    case "create-migration": {
      const created = await migrations.createMigration(parsed.name, { url: db.ownerUrl });
      if (!created) {
        console.log("prisma/schema.prisma matches the migrations: nothing to create.");
        return 0;
      }
      console.log(`Created ${created.file}`);
      console.log("Review it, then run `tlsfleet db migrate`.");
      return 0;
    }
    case "status": {
      const s = await migrations.status({ url: db.ownerUrl });
      console.log(`Database: ${describe(db)}`);
      console.log(`${s.local.length} migration(s) in prisma/migrations, ${s.applied.length} applied.`);
      const list = (title: string, names: string[]) => {
        if (names.length) console.log(`${title}:\n${names.map((n) => `  ${n}`).join("\n")}`);
      };
      list("Pending (run `tlsfleet db migrate`)", s.pending);
      list("Failed (fix the database, then `tlsfleet db resolve --rolled-back NAME`)", s.failed);
      list("Edited after they were applied", s.edited);
      list("Applied to the database but missing from prisma/migrations", s.missingLocally);
      if (s.upToDate) console.log("Database schema is up to date.");
      return s.upToDate ? 0 : 1;
    }
    case "resolve": {
      await migrations.resolveMigration(parsed.name, parsed.as, { url: db.ownerUrl });
      console.log(`Marked ${parsed.name} as ${parsed.as}.`);
      return 0;
    }
  }
}
