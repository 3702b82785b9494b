// Applies, inspects and creates Prisma migrations (prisma/migrations/<timestamp>_<name>/migration.sql)
// with the WASM schema engine. The engine writes `_prisma_migrations` itself, the same rows with
// the same checksums as the native engine, so `prisma migrate deploy` on a machine that has the
// native engine agrees with what ran here, and the other way round.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { env } from "../env";
import { listMigrations, lockfileContent, writeMigration } from "./migration-files";
import { engineError, NO_FILTERS, openSchemaEngine, type EngineSession } from "./schema-engine";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export interface MigrateOptions {
  /** The database to work on, as its owner. Default: env.MIGRATION_DATABASE_URL, else env.DATABASE_URL. */
  url?: string;
  /** Folder with schema.prisma and migrations/, as in prisma.config.ts. Default: <repo>/prisma. */
  prismaDir?: string;
}

export interface MigrationStatus {
  /** Every migration folder, oldest first. */
  local: string[];
  /** Local migrations the database has applied. */
  applied: string[];
  /** Local migrations not applied yet: `tlsfleet db migrate` would apply these. */
  pending: string[];
  /** Recorded in the database but missing from the folder (a newer checkout ran them?). */
  missingLocally: string[];
  /** Started and not finished: fix the database by hand, then mark it rolled back. */
  failed: string[];
  /** Applied, but the file changed since (its checksum no longer matches). */
  edited: string[];
  hasMigrationsTable: boolean;
  upToDate: boolean;
}

export interface CreatedMigration {
  /** Directory name, `<UTC timestamp>_<name>`, e.g. 20261128101500_add_host_notes. */
  name: string;
  /** Absolute path of the written migration.sql. */
  file: string;
  sql: string;
}

/** Migration names end up in directory names: keep them to what Prisma's own CLI produces. */
export const MIGRATION_NAME = /^[a-z0-9][a-z0-9_]{0,199}$/;

function resolveOptions(options: MigrateOptions) {
  const url = options.url ?? env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: run through `tlsfleet db ...` (it starts the embedded database) or set DATABASE_URL");
  const prismaDir = path.resolve(PROJECT_ROOT, options.prismaDir ?? "prisma");
  return { url, schemaPath: path.join(prismaDir, "schema.prisma"), migrationsDir: path.join(prismaDir, "migrations") };
}

async function withEngine<T>(options: MigrateOptions, fn: (session: EngineSession, paths: ReturnType<typeof resolveOptions>) => Promise<T>): Promise<T> {
  const paths = resolveOptions(options);
  const content = await readFile(paths.schemaPath, "utf8");
  const session = await openSchemaEngine(paths.url, { path: paths.schemaPath, content });
  try {
    return await fn(session, paths);
  } finally {
    await session.close();
  }
}

/**
 * Applies every pending migration, oldest first, each in one transaction, and returns the names of
 * those applied (empty when the database was up to date). Concurrent callers are serialised by the
 * engine's advisory lock, so two processes starting at once cannot both apply a migration.
 */
export async function migrate(options: MigrateOptions = {}): Promise<string[]> {
  return withEngine(options, async ({ engine }, { migrationsDir }) => {
    const migrationsList = await listMigrations(migrationsDir);
    try {
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
      return appliedMigrationNames;
    } catch (error) {
      throw engineError(error, "Applying migrations failed");
    }
  });
}

/** Compares prisma/migrations with `_prisma_migrations`. Read-only. */
export async function status(options: MigrateOptions = {}): Promise<MigrationStatus> {
  return withEngine(options, async ({ engine }, { migrationsDir }) => {
    const migrationsList = await listMigrations(migrationsDir);
    const local = migrationsList.migrationDirectories.map((d) => d.path);
    let diagnosis;
    try {
      // No shadow database: that would also detect drift, but it needs CREATEDB and takes seconds.
      diagnosis = await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS });
    } catch (error) {
      throw engineError(error, "Reading the migration history failed");
    }
    const history = diagnosis.history;
    const pending = history && history.diagnostic !== "migrationsDirectoryIsBehind" ? history.unappliedMigrationNames : [];
    const missingLocally = history && history.diagnostic !== "databaseIsBehind" ? history.unpersistedMigrationNames : [];
    return {
      local,
      applied: local.filter((name) => !pending.includes(name) && !diagnosis.failedMigrationNames.includes(name)),
      pending,
      missingLocally,
      failed: diagnosis.failedMigrationNames,
      edited: diagnosis.editedMigrationNames,
      hasMigrationsTable: diagnosis.hasMigrationsTable,
      upToDate: history === null && diagnosis.failedMigrationNames.length === 0 && diagnosis.editedMigrationNames.length === 0,
    };
  });
}

/** Prisma's migration timestamp: UTC, YYYYMMDDHHMMSS. */
function migrationTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/**
 * A timestamp for the next migration that sorts after every existing one, even when two are
 * created within one second or the newest came from a machine whose clock runs ahead.
 */
export function nextMigrationTimestamp(existing: string[], now = new Date()): string {
  let stamp = migrationTimestamp(now);
  const newest = existing.map((name) => name.slice(0, 14)).filter((s) => /^\d{14}$/.test(s)).sort().at(-1);
  if (newest && stamp <= newest) {
    const d = newest;
    const next = new Date(Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(8, 10), +d.slice(10, 12), +d.slice(12, 14)) + 1000);
    stamp = migrationTimestamp(next);
  }
  return stamp;
}

/**
 * Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes a database
 * from the existing migrations to schema.prisma. Returns null when there is nothing to migrate.
 *
 * This is `prisma migrate diff --from-migrations --to-schema --script`, not the engine's
 * createMigration: in schema-engine-wasm 7.10 createMigration is not given the adapter factory and
 * fails with "PostgreSQL shadow DB must be provided through an external factory"; diff is.
 * The engine replays the existing migrations in a throwaway shadow database on the server of
 * `url` (so that role needs CREATEDB); the database at `url` itself is not read or changed.
 */
export async function createMigration(name: string, options: MigrateOptions = {}): Promise<CreatedMigration | null> {
  if (!MIGRATION_NAME.test(name)) {
    throw new Error(`Invalid migration name '${name}': use lower-case letters, digits and underscores (e.g. add_host_notes)`);
  }
  return withEngine(options, async ({ engine }, { schemaPath, migrationsDir }) => {
    const migrationsList = await listMigrations(migrationsDir);
    // The engine reads the connector from the lockfile and refuses a history without one, which
    // is the state before the first migration. Prisma writes it with the first migration too.
    migrationsList.lockfile.content ??= lockfileContent("postgresql");
    const schema = await readFile(schemaPath, "utf8");
    let diff;
    try {
      diff = await engine.diff({
        from: { tag: "migrations", ...migrationsList },
        to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: schema }] },
        script: true,
        // With exitCode the engine reports 2 when there is a difference and 0 when there is none.
        exitCode: true,
        filters: NO_FILTERS,
      });
    } catch (error) {
      throw engineError(error, "Creating the migration failed");
    }
    if (diff.exitCode === 0 || !diff.stdout) return null;
    const migrationName = `${nextMigrationTimestamp(migrationsList.migrationDirectories.map((d) => d.path))}_${name}`;
    const dir = await writeMigration(migrationsDir, migrationName, diff.stdout, "postgresql");
    return { name: migrationName, file: path.join(dir, "migration.sql"), sql: diff.stdout };
  });
}

/**
 * `prisma migrate resolve`: after a migration failed (P3009 blocks all further ones), either
 * `rolled-back` (the database was repaired by hand and the migration should run again) or
 * `applied` (its changes were completed by hand). Both only write `_prisma_migrations`.
 */
export async function resolveMigration(name: string, as: "rolled-back" | "applied", options: MigrateOptions = {}): Promise<void> {
  await withEngine(options, async ({ engine }, { migrationsDir }) => {
    try {
      if (as === "rolled-back") {
        await engine.markMigrationRolledBack({ migrationName: name });
      } else {
        await engine.markMigrationApplied({ migrationName: name, migrationsList: await listMigrations(migrationsDir) });
      }
    } catch (error) {
      throw engineError(error, `Marking ${name} as ${as} failed`);
    }
  });
}
