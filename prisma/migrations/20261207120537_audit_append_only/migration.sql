-- DropIndex
DROP INDEX "AuditEvent_action_idx";

-- AlterTable: every existing event gets its place in the chain, in the order it was chained (id).
ALTER TABLE "AuditEvent" ADD COLUMN     "seq" BIGINT;
UPDATE "AuditEvent" e SET "seq" = o.n FROM (SELECT "id", row_number() OVER (ORDER BY "id") AS n FROM "AuditEvent") o WHERE o."id" = e."id";
ALTER TABLE "AuditEvent" ALTER COLUMN "seq" SET NOT NULL;

-- CreateTable
CREATE TABLE "AuditCheckpoint" (
    "number" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "prevCheckpointHash" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "checkpointHash" TEXT NOT NULL,

    CONSTRAINT "AuditCheckpoint_pkey" PRIMARY KEY ("number")
);

-- CreateTable
CREATE TABLE "AuditVerification" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "full" BOOLEAN NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "fromSeq" BIGINT NOT NULL,
    "toSeq" BIGINT NOT NULL,
    "toHash" TEXT NOT NULL,
    "checkpointNumber" INTEGER,
    "checkpointAt" TIMESTAMP(3),
    "problemKind" TEXT,
    "problemSeq" BIGINT,
    "problem" TEXT,

    CONSTRAINT "AuditVerification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditCheckpoint_checkpointHash_key" ON "AuditCheckpoint"("checkpointHash");

-- CreateIndex
CREATE INDEX "AuditVerification_at_idx" ON "AuditVerification"("at");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_seq_key" ON "AuditEvent"("seq");

-- CreateIndex
CREATE INDEX "AuditEvent_action_seq_idx" ON "AuditEvent"("action", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_actor_seq_idx" ON "AuditEvent"("actor", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_target_seq_idx" ON "AuditEvent"("target", "seq");

-- Append-only, for every role (docs/audit.md): UPDATE, DELETE and TRUNCATE are refused by a
-- trigger, which binds the table owner and superusers too; only someone who can disable the
-- trigger (the owner) can change history, and `tlsfleet audit verify` then reports it.
CREATE OR REPLACE FUNCTION tlsfleet_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'tlsfleet: % on "%" is refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "AuditEvent_append_only" BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION tlsfleet_audit_append_only();
CREATE TRIGGER "AuditEvent_no_truncate" BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION tlsfleet_audit_append_only();
CREATE TRIGGER "AuditCheckpoint_append_only" BEFORE UPDATE OR DELETE ON "AuditCheckpoint"
  FOR EACH ROW EXECUTE FUNCTION tlsfleet_audit_append_only();
CREATE TRIGGER "AuditCheckpoint_no_truncate" BEFORE TRUNCATE ON "AuditCheckpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION tlsfleet_audit_append_only();

-- The application's role. Roles belong to the cluster, not the database: other databases on the
-- same server (tests, a second install) may have created it already, possibly at this moment.
-- Created without LOGIN: `tlsfleet start` (embedded database) gives it a password, or the
-- deployer does (README "Database roles"), or grants it to their own login role.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tlsfleet_app') THEN
    CREATE ROLE tlsfleet_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- Normal rights on everything else, now and for tables later migrations create (default
-- privileges apply to objects created by the role running the migrations, so always migrate as
-- the same owner role). CREATE on the database: pg-boss creates and migrates its own schema as
-- the app. A pg-boss schema made before this migration (by the role that then ran everything) is
-- handed to the app role, since pg-boss attaches a partition to its job table per new queue,
-- which needs ownership; where the migrating role may not do that, it grants what it can.
DO $$
DECLARE
  r record;
BEGIN
  EXECUTE format('GRANT CONNECT, TEMPORARY, CREATE ON DATABASE %I TO tlsfleet_app', current_database());
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'pgboss') THEN
    BEGIN
      ALTER SCHEMA pgboss OWNER TO tlsfleet_app;
      FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'pgboss' AND c.relkind IN ('r', 'p', 'v') LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO tlsfleet_app', r.name);
      END LOOP;
      FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pgboss' LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO tlsfleet_app', r.name);
      END LOOP;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pgboss schema left with its owner: %', SQLERRM;
      GRANT USAGE, CREATE ON SCHEMA pgboss TO tlsfleet_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgboss TO tlsfleet_app;
      GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA pgboss TO tlsfleet_app;
    END;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tlsfleet_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tlsfleet_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO tlsfleet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tlsfleet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO tlsfleet_app;

-- The audit tables: append and read, nothing else.
REVOKE ALL ON "AuditEvent", "AuditCheckpoint" FROM tlsfleet_app;
GRANT SELECT, INSERT ON "AuditEvent", "AuditCheckpoint" TO tlsfleet_app;
-- Migration history: read only (absent in the shadow database `db create-migration` replays into).
DO $$
BEGIN
  IF to_regclass('"_prisma_migrations"') IS NOT NULL THEN
    REVOKE ALL ON "_prisma_migrations" FROM tlsfleet_app;
    GRANT SELECT ON "_prisma_migrations" TO tlsfleet_app;
  END IF;
END
$$;
