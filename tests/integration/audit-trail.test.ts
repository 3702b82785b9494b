// The audit trail against real PostgreSQL: append-only for the app's role and (by trigger) for
// everyone, a linear chain under concurrent writers, and `tlsfleet audit verify` naming each kind
// of tampering that a database owner who disables the trigger can do.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { disconnectPrisma, prisma } from "@/lib/db";
import { reloadEnv } from "@/lib/env";
import { eventHash } from "@/lib/audit/chain";
import { loadOrCreateAuditKeys } from "@/lib/audit/keys";
import { recordAudit, recordAuditInTx } from "@/lib/audit/log";
import { migrate } from "@/lib/db/migrate";
import { auditChainStatus, createCheckpoint, latestCheckpoint, verifyAuditChain } from "@/lib/audit/verify";
import { adminQuery, freshDatabase, testDatabaseUrl, type ThrowawayDatabase } from "../support/db";

const ROOT = path.resolve(import.meta.dirname, "../..");
const keyDir = mkdtempSync(path.join(tmpdir(), "tlsfleet-audit-key-"));
// Roles are cluster-wide and other runs share the cluster: a login role of this run only.
const appLogin = `tlsfleet_app_t${process.pid}_${Date.now().toString(36)}`;
const databases: ThrowawayDatabase[] = [];
// The run's database, kept: each test points DATABASE_URL at a database of its own.
const runDatabase = testDatabaseUrl();

function withUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = "";
  return u.toString();
}

async function query(url: string, sql: string, values: unknown[] = []) {
  return adminQuery(url, sql, values);
}

/** A fresh migrated database, made the one `prisma` and the CLI use. */
async function useFreshDatabase(label: string): Promise<string> {
  process.env.DATABASE_URL = runDatabase;
  const db = await freshDatabase({ label, migrated: true });
  databases.push(db);
  await disconnectPrisma();
  process.env.DATABASE_URL = db.url;
  process.env.TLSFLEET_AUDIT_KEY_DIR = keyDir;
  reloadEnv();
  return db.url;
}

async function chainOf(n: number) {
  for (let i = 1; i <= n; i++) await recordAudit({ actor: "alice@example.test", action: "host.create", target: `host:h${i}.example.test`, details: { i } });
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin/tlsfleet"), ...args], {
    cwd: ROOT,
    env: { ...process.env, TLSFLEET_AUDIT_KEY_DIR: keyDir, LOG_LEVEL: "warn" },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What an attacker with the owner's connection does first. */
async function asOwnerWithoutTrigger(url: string, ...statements: Array<[string, unknown[]?]>) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
    for (const [sql, values] of statements) await c.query(sql, values ?? []);
    await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
  } finally {
    await c.end();
  }
}

const keys = () => loadOrCreateAuditKeys(keyDir);

beforeAll(async () => {
  await query(runDatabase, `CREATE ROLE ${appLogin} LOGIN IN ROLE tlsfleet_app`);
});

afterEach(async () => {
  await disconnectPrisma();
});

afterAll(async () => {
  await disconnectPrisma();
  process.env.DATABASE_URL = runDatabase;
  reloadEnv();
  for (const db of databases) await db.drop();
  await query(runDatabase, `DROP ROLE IF EXISTS ${appLogin}`);
  rmSync(keyDir, { recursive: true, force: true });
});

describe("append-only audit tables", () => {
  it("lets the app's role insert and read audit events and nothing else, and keeps its normal rights elsewhere", async () => {
    const url = await useFreshDatabase("audit_roles");
    await chainOf(2);
    const app = withUser(url, appLogin);
    expect((await query(app, `SELECT count(*)::int AS n FROM "AuditEvent"`)).rows[0].n).toBe(2);
    await query(app, `INSERT INTO "AuditEvent" (seq, actor, action, "prevHash", hash) VALUES (99, 'x', 'y', 'p', 'h99')`);
    for (const sql of [`UPDATE "AuditEvent" SET actor = 'mallory' WHERE seq = 1`, `DELETE FROM "AuditEvent" WHERE seq = 1`, `TRUNCATE "AuditEvent"`, `DELETE FROM "AuditCheckpoint"`, `ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`]) {
      await expect(query(app, sql), sql).rejects.toThrow(/permission denied|must be owner/);
    }
    // Normal rights elsewhere, also on a table a later migration (run by the owner) creates.
    await query(app, `INSERT INTO "Setting" (key, value, "updatedAt") VALUES ('t', '1', now())`);
    await query(app, `UPDATE "Setting" SET value = '2' WHERE key = 't'`);
    await query(app, `DELETE FROM "Setting" WHERE key = 't'`);
    await query(url, `CREATE TABLE "LaterTable" (id serial PRIMARY KEY, v text)`);
    await query(app, `INSERT INTO "LaterTable" (v) VALUES ('ok')`);
    await query(app, `UPDATE "LaterTable" SET v = 'changed'`);
  });

  it("works as the README sets it up: a non-superuser owner migrates, the app role appends only", async () => {
    const owner = `tlsfleet_owner_t${process.pid}_${Date.now().toString(36)}`;
    const name = `${new URL(runDatabase).pathname.slice(1)}_owner_${Date.now().toString(36)}`;
    await query(runDatabase, `CREATE ROLE ${owner} LOGIN`);
    await query(runDatabase, `CREATE DATABASE ${name} OWNER ${owner}`);
    const ownerUrl = withUser(new URL(`/${name}`, runDatabase).toString(), owner);
    try {
      await migrate({ url: ownerUrl });
      const app = withUser(ownerUrl, appLogin);
      await query(app, `INSERT INTO "AuditEvent" (seq, actor, action, "prevHash", hash) VALUES (1, 'x', 'y', 'p', 'h1')`);
      await expect(query(app, `UPDATE "AuditEvent" SET actor = 'z'`)).rejects.toThrow(/permission denied/);
      await expect(query(ownerUrl, `DELETE FROM "AuditEvent"`)).rejects.toThrow(/append-only/);
      await query(ownerUrl, `CREATE TABLE "LaterTable" (id serial PRIMARY KEY, v text)`);
      await query(app, `INSERT INTO "LaterTable" (v) VALUES ('ok')`);
    } finally {
      await query(runDatabase, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await query(runDatabase, `DROP OWNED BY ${owner}`);
      await query(runDatabase, `DROP ROLE IF EXISTS ${owner}`);
    }
  });

  it("hands a pg-boss schema made before the migration to the app role", async () => {
    process.env.DATABASE_URL = runDatabase;
    const db = await freshDatabase({ label: "audit_pgboss" });
    databases.push(db);
    await query(db.url, `CREATE SCHEMA pgboss`);
    await query(db.url, `CREATE TABLE pgboss.job (id serial, name text, PRIMARY KEY (name, id)) PARTITION BY LIST (name)`);
    await query(db.url, `CREATE FUNCTION pgboss.noop() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
    await migrate({ url: db.url });
    const owners = await query(db.url, `SELECT (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'pgboss') AS schema, (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'pgboss.job'::regclass) AS job`);
    expect(owners.rows[0]).toEqual({ schema: "tlsfleet_app", job: "tlsfleet_app" });
    // What pg-boss does for a new queue, as the app.
    const app = withUser(db.url, appLogin);
    await query(app, `CREATE TABLE pgboss.j1 (LIKE pgboss.job INCLUDING DEFAULTS)`);
    await query(app, `ALTER TABLE pgboss.job ATTACH PARTITION pgboss.j1 FOR VALUES IN ('q1')`);
  });

  it("refuses UPDATE, DELETE and TRUNCATE by trigger even for the owner and superuser", async () => {
    const url = await useFreshDatabase("audit_trigger");
    await chainOf(2);
    for (const sql of [`UPDATE "AuditEvent" SET actor = 'mallory'`, `DELETE FROM "AuditEvent"`, `TRUNCATE "AuditEvent"`, `TRUNCATE "AuditCheckpoint"`]) {
      await expect(query(url, sql), sql).rejects.toThrow(/append-only/);
    }
    expect(await prisma.auditEvent.count()).toBe(2);
  });

  it("keeps the chain linear under 200 parallel writers", async () => {
    await useFreshDatabase("audit_parallel");
    // Half on their own (queued per process), half inside parallel transactions of their own,
    // which meet only on the database's chain lock: the case two processes are in.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2
          ? recordAudit({ actor: `w${i % 7}@example.test`, action: "test.parallel", target: `n:${i}` })
          : prisma.$transaction((tx) => recordAuditInTx(tx, { actor: `w${i % 7}@example.test`, action: "test.parallel_tx", target: `n:${i}` }), { maxWait: 60_000, timeout: 60_000 }),
      ),
    );
    const rows = await prisma.auditEvent.findMany({ orderBy: { seq: "asc" }, select: { seq: true, prevHash: true, hash: true } });
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(200);
    const report = await verifyAuditChain({ publicKey: keys().publicKey });
    expect(report).toMatchObject({ ok: true, checked: 200 });
  });
});

describe("tlsfleet audit verify", () => {
  it("passes an intact chain with checkpoints, and the status says up to which checkpoint", async () => {
    await useFreshDatabase("audit_intact");
    await chainOf(5);
    const cp = await createCheckpoint(keys());
    expect(await latestCheckpoint()).toMatchObject({ number: 1, seq: 5n });
    await chainOf(2);
    const r = cli("audit", "verify");
    expect(r.out).toContain("OK: 7 events verified up to #7 (checkpoint 1");
    expect(r.code).toBe(0);
    expect(await auditChainStatus()).toMatchObject({ state: "verified", verifiedUpToSeq: 7n, headSeq: 7n, checkpoint: { number: 1, at: cp!.at } });
  });

  it("the worker's round signs one checkpoint per interval, appends it to the file sink, verifies the new events, and the whole chain daily", async () => {
    const url = await useFreshDatabase("audit_worker_round");
    const sink = path.join(keyDir, "checkpoints.jsonl");
    process.env.TLSFLEET_AUDIT_CHECKPOINT_FILE = sink;
    reloadEnv();
    try {
      const { auditCheckpointRound } = await import("@/agents/worker");
      await chainOf(3);
      await auditCheckpointRound(keys());
      await chainOf(2);
      await auditCheckpointRound(keys()); // within the hour: nothing
      expect(await prisma.auditCheckpoint.count()).toBe(1);
      const lines = readFileSync(sink, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { number: number; seq: string; signature: string });
      expect(lines).toEqual([expect.objectContaining({ number: 1, seq: "3", signature: (await latestCheckpoint())!.signature })]);
      expect(await auditChainStatus()).toMatchObject({ state: "verified", verifiedUpToSeq: 3n, headSeq: 5n, checkpoint: { number: 1, seq: 3n } });
      // An event verified earlier is edited: the next hourly round walks only the new events,
      // the first round a day later walks everything and the page shows the break.
      await asOwnerWithoutTrigger(url, [`UPDATE "AuditEvent" SET target = 'host:elsewhere' WHERE seq = 2`]);
      const hours = (h: number) => new Date(Date.now() + h * 3_600_000);
      await auditCheckpointRound(keys(), hours(2));
      expect(await auditChainStatus()).toMatchObject({ state: "verified", verifiedUpToSeq: 5n });
      await auditCheckpointRound(keys(), hours(26));
      expect(await auditChainStatus()).toMatchObject({ state: "broken", problemKind: "edited", problemSeq: 2n });
      expect(await prisma.auditCheckpoint.count()).toBe(3);
    } finally {
      delete process.env.TLSFLEET_AUDIT_CHECKPOINT_FILE;
      reloadEnv();
    }
  });

  it("names an edited event", async () => {
    const url = await useFreshDatabase("audit_edit");
    await chainOf(10);
    const victim = await prisma.auditEvent.findUniqueOrThrow({ where: { seq: 4n } });
    await asOwnerWithoutTrigger(url, [`UPDATE "AuditEvent" SET actor = 'mallory@example.test' WHERE seq = 4`]);
    const r = cli("audit", "verify");
    expect(r.code).toBe(1);
    expect(r.out).toContain(`BROKEN (edited): event #4 (id ${victim.id}, host.create host:h4.example.test`);
    expect(await auditChainStatus()).toMatchObject({ state: "broken", problemKind: "edited", problemSeq: 4n });
  });

  it("names a deleted middle event", async () => {
    const url = await useFreshDatabase("audit_delete");
    await chainOf(10);
    const next = await prisma.auditEvent.findUniqueOrThrow({ where: { seq: 6n } });
    await asOwnerWithoutTrigger(url, [`DELETE FROM "AuditEvent" WHERE seq = 5`]);
    const r = cli("audit", "verify");
    expect(r.code).toBe(1);
    expect(r.out).toContain(`BROKEN (deleted): event #5 is missing (deleted): the chain jumps from #4 to #6 (id ${next.id}`);
  });

  it("names an inserted event, even when the rest were renumbered to hide the gap", async () => {
    const url = await useFreshDatabase("audit_insert");
    await chainOf(10);
    const before = await prisma.auditEvent.findUniqueOrThrow({ where: { seq: 4n } });
    const forged = { at: new Date(before.at.getTime() + 1), actor: "mallory@example.test", actorId: null, action: "user.role_change", target: "user:mallory", details: { role: "admin" }, prevHash: before.hash };
    await asOwnerWithoutTrigger(
      url,
      [`UPDATE "AuditEvent" SET seq = -seq WHERE seq >= 5`],
      [`UPDATE "AuditEvent" SET seq = -seq + 1 WHERE seq < 0`],
      [`INSERT INTO "AuditEvent" (id, seq, at, actor, action, target, details, "prevHash", hash) VALUES (424242, 5, $1, $2, $3, $4, $5, $6, $7)`, [forged.at, forged.actor, forged.action, forged.target, JSON.stringify(forged.details), forged.prevHash, eventHash(forged)]],
    );
    const r = cli("audit", "verify");
    expect(r.code).toBe(1);
    expect(r.out).toContain("BROKEN (inserted): event #5 (id 424242, user.role_change user:mallory");
  });

  it("reports a truncated tail against the latest checkpoint", async () => {
    const url = await useFreshDatabase("audit_truncate");
    await chainOf(10);
    await createCheckpoint(keys());
    const last = await prisma.auditEvent.findUniqueOrThrow({ where: { seq: 7n } });
    await asOwnerWithoutTrigger(url, [`DELETE FROM "AuditEvent" WHERE seq > 7`]);
    const r = cli("audit", "verify");
    expect(r.code).toBe(1);
    expect(r.out).toContain(`BROKEN (truncated): the tail was cut: the chain ends at #7 (id ${last.id}`);
    expect(r.out).toContain("checkpoint 1");
    expect(r.out).toContain("events #8 to #10 were deleted");
  });

  it("exports events, checkpoints and the key, and verifies the file without the database", async () => {
    await useFreshDatabase("audit_export");
    await chainOf(6);
    await createCheckpoint(keys());
    const file = path.join(keyDir, "export.json");
    const exported = cli("audit", "export", "--out", file);
    expect(exported.out).toContain("6 events, 1 checkpoints");
    expect(exported.code).toBe(0);
    const dbless = (f: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, TLSFLEET_AUDIT_KEY_DIR: "/nonexistent" };
      delete env.DATABASE_URL;
      const r = spawnSync(process.execPath, [path.join(ROOT, "bin/tlsfleet"), "audit", "verify", "--file", f], { cwd: ROOT, env, encoding: "utf8", timeout: 120_000 });
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    };
    const ok = dbless(file);
    expect(ok.out).toContain(`key ${keys().keyId}`);
    expect(ok.out).toContain("OK: 6 events verified up to #6 (checkpoint 1");
    expect(ok.code).toBe(0);
    const edited = path.join(keyDir, "export-edited.json");
    writeFileSync(edited, readFileSync(file, "utf8").replace('"target":"host:h3.example.test"', '"target":"host:other.example.test"'));
    const bad = dbless(edited);
    expect(bad.out).toContain("BROKEN (edited): event #3");
    expect(bad.code).toBe(1);
  });
});
