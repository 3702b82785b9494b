// The real migration path (WASM schema engine over adapter-pg, lib/db/migrate.ts) against a real
// PostgreSQL: DATABASE_URL's server in CI (PostgreSQL 15), the embedded PostgreSQL 18 without it.
// Prisma support for this path is unofficial (docs/architecture.md "Migrations without Prisma's native engines"), so
// these tests are what says a Prisma upgrade still works.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createMigration, migrate, resolveMigration, status } from "@/lib/db/migrate";
import { lockfileContent, migrationChecksum } from "@/lib/db/migration-files";
import { adminQuery, freshDatabase, testDatabaseUrl, type ThrowawayDatabase } from "../support/db";

const PRISMA_DIR = path.resolve(__dirname, "..", "..", "prisma");

async function localMigrations(prismaDir = PRISMA_DIR): Promise<string[]> {
  const entries = await readdir(path.join(prismaDir, "migrations"), { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

async function migrationRows(url: string): Promise<MigrationRow[]> {
  const { rows } = await adminQuery<MigrationRow>(
    url,
    `SELECT migration_name, checksum, finished_at, rolled_back_at, logs, applied_steps_count
       FROM _prisma_migrations ORDER BY started_at, migration_name`,
  );
  return rows;
}

/** A copy of prisma/ (schema and migrations) that a test may change and add migrations to. */
async function scratchPrismaDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "tlsfleet-prisma-"));
  await cp(path.join(PRISMA_DIR, "schema.prisma"), path.join(dir, "schema.prisma"));
  await cp(path.join(PRISMA_DIR, "migrations"), path.join(dir, "migrations"), { recursive: true });
  return dir;
}

async function shadowDatabases(): Promise<string[]> {
  const { rows } = await adminQuery<{ datname: string }>(
    testDatabaseUrl(),
    "SELECT datname FROM pg_database WHERE starts_with(datname, 'prisma_migrate_shadow_db_')",
  );
  return rows.map((r) => r.datname);
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function emptyDatabase(label: string): Promise<ThrowawayDatabase> {
  const db = await freshDatabase({ label });
  cleanup.push(db.drop);
  return db;
}

async function scratchDir(): Promise<string> {
  const dir = await scratchPrismaDir();
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("applying prisma/migrations", () => {
  let db: ThrowawayDatabase;
  let firstRun: string[];
  let secondRun: string[];

  beforeAll(async () => {
    db = await freshDatabase({ label: "apply" });
    firstRun = await migrate({ url: db.url });
    secondRun = await migrate({ url: db.url });
  });
  afterAll(async () => {
    await db?.drop();
  });

  test("applies every migration to an empty database, oldest first", async () => {
    expect(firstRun).toEqual(await localMigrations());
    expect(firstRun[0]).toMatch(/^\d{14}_init$/);
  });

  test("a second run applies nothing", () => {
    expect(secondRun).toEqual([]);
  });

  test("records each migration the way Prisma does: sha256 of the file, finished, one step", async () => {
    const rows = await migrationRows(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(firstRun);
    for (const row of rows) {
      const file = await readFile(path.join(PRISMA_DIR, "migrations", row.migration_name, "migration.sql"), "utf8");
      expect(row.checksum).toBe(migrationChecksum(file));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  test("creates the schema, including pg_trgm and the trigram index on Host.name", async () => {
    const { rows: tables } = await adminQuery<{ n: number }>(
      db.url,
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('Host', 'Endpoint', 'ProbeResult', 'AuditEvent', 'User')`,
    );
    expect(tables[0]?.n).toBe(5);
    const { rows: index } = await adminQuery<{ indexdef: string }>(db.url, `SELECT indexdef FROM pg_indexes WHERE indexname = 'Host_name_trgm_idx'`);
    expect(index[0]?.indexdef).toContain("gin_trgm_ops");
    const { rows: ext } = await adminQuery(db.url, `SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`);
    expect(ext).toHaveLength(1);
  });

  test("status says up to date", async () => {
    const s = await status({ url: db.url });
    expect(s).toMatchObject({ upToDate: true, pending: [], failed: [], edited: [], missingLocally: [], hasMigrationsTable: true });
    expect(s.applied).toEqual(firstRun);
  });
});

describe("status", () => {
  test("lists every migration as pending on an empty database", async () => {
    const db = await emptyDatabase("status");
    const s = await status({ url: db.url });
    expect(s.hasMigrationsTable).toBe(false);
    expect(s.pending).toEqual(await localMigrations());
    expect(s.upToDate).toBe(false);
  });

  test("reports a migration file edited after it was applied", async () => {
    const dir = await scratchDir();
    const db = await emptyDatabase("edited");
    await migrate({ url: db.url, prismaDir: dir });
    const [first] = await localMigrations(dir);
    const file = path.join(dir, "migrations", first!, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")) + "\n-- edited\n");
    const s = await status({ url: db.url, prismaDir: dir });
    expect(s.edited).toEqual([first]);
    expect(s.upToDate).toBe(false);
  });
});

describe("create-migration", () => {
  test("writes nothing when schema.prisma matches the migrations", async () => {
    const dir = await scratchDir();
    const before = await localMigrations(dir);
    expect(await createMigration("nothing_changed", { url: testDatabaseUrl(), prismaDir: dir })).toBeNull();
    expect(await localMigrations(dir)).toEqual(before);
  });

  test("writes the SQL for a schema change, and the new migration applies on top of the others", async () => {
    const dir = await scratchDir();
    const db = await emptyDatabase("ontop");
    const existing = await migrate({ url: db.url, prismaDir: dir });

    const schemaFile = path.join(dir, "schema.prisma");
    const schema = await readFile(schemaFile, "utf8");
    const changed = schema.replace(/(model Host \{\n)/, "$1  notes            String?\n");
    expect(changed).not.toBe(schema);
    await writeFile(schemaFile, changed);

    const shadowsBefore = await shadowDatabases();
    const created = await createMigration("add_host_notes", { url: testDatabaseUrl(), prismaDir: dir });
    expect(created).not.toBeNull();
    expect(created!.name).toMatch(/^\d{14}_add_host_notes$/);
    expect(created!.name > existing.at(-1)!).toBe(true);
    const sql = await readFile(created!.file, "utf8");
    expect(sql).toBe(created!.sql);
    expect(sql).toBe('-- AlterTable\nALTER TABLE "Host" ADD COLUMN     "notes" TEXT;\n');
    expect(await readFile(path.join(dir, "migrations", "migration_lock.toml"), "utf8")).toBe(lockfileContent("postgresql"));
    // The engine's shadow database is gone again (compared with before: the server is shared).
    expect((await shadowDatabases()).filter((name) => !shadowsBefore.includes(name))).toEqual([]);

    expect(await migrate({ url: db.url, prismaDir: dir })).toEqual([created!.name]);
    const { rows } = await adminQuery(db.url, `SELECT "notes" FROM "Host" LIMIT 0`);
    expect(rows).toEqual([]);
    const newest = (await migrationRows(db.url)).at(-1)!;
    expect(newest).toMatchObject({ migration_name: created!.name, checksum: migrationChecksum(sql), rolled_back_at: null });
    expect(newest.finished_at).toBeInstanceOf(Date);

    // The schema and the migrations agree again.
    expect(await createMigration("again", { url: testDatabaseUrl(), prismaDir: dir })).toBeNull();
  });

  test("rejects a name that would not make a clean directory name", async () => {
    await expect(createMigration("Add Notes!", { url: testDatabaseUrl() })).rejects.toThrow(/Invalid migration name/);
  });
});

describe("a migration that fails", () => {
  test("leaves nothing half-applied, blocks later migrations, and runs again once resolved", async () => {
    const dir = await scratchDir();
    const db = await emptyDatabase("failing");
    await migrate({ url: db.url, prismaDir: dir });

    // Semicolons inside a dollar-quoted body must not split the statement (adapter-pg's
    // executeScript splits on every `;`); the division by zero must roll back the whole file.
    const name = "29990101000000_add_function";
    const file = path.join(dir, "migrations", name, "migration.sql");
    await mkdir(path.dirname(file));
    const body = `CREATE FUNCTION tlsfleet_test_answer() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 42; END; $$;\n`;
    await writeFile(file, `${body}CREATE TABLE "ShouldNotExist" (id int);\nSELECT 1/0;\n`);

    await expect(migrate({ url: db.url, prismaDir: dir })).rejects.toThrow(/division by zero/);
    const { rows: leftovers } = await adminQuery<{ t: string | null; f: string | null }>(
      db.url,
      `SELECT to_regclass('"ShouldNotExist"')::text AS t, to_regprocedure('tlsfleet_test_answer()')::text AS f`,
    );
    expect(leftovers[0]).toEqual({ t: null, f: null });
    expect((await status({ url: db.url, prismaDir: dir })).failed).toEqual([name]);
    await expect(migrate({ url: db.url, prismaDir: dir })).rejects.toMatchObject({ code: "P3009" });

    await writeFile(file, body);
    await resolveMigration(name, "rolled-back", { url: db.url, prismaDir: dir });
    expect(await migrate({ url: db.url, prismaDir: dir })).toEqual([name]);
    const { rows } = await adminQuery<{ answer: number }>(db.url, "SELECT tlsfleet_test_answer() AS answer");
    expect(rows[0]?.answer).toBe(42);
  });
});
