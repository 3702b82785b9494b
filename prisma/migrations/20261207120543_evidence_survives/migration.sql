-- DropForeignKey
ALTER TABLE "ConfigSnapshot" DROP CONSTRAINT "ConfigSnapshot_hostId_fkey";

-- DropForeignKey
ALTER TABLE "Endpoint" DROP CONSTRAINT "Endpoint_hostId_fkey";

-- DropForeignKey
ALTER TABLE "Exception" DROP CONSTRAINT "Exception_hostId_fkey";

-- DropForeignKey
ALTER TABLE "JobTask" DROP CONSTRAINT "JobTask_hostId_fkey";

-- DropForeignKey
ALTER TABLE "RolloutHost" DROP CONSTRAINT "RolloutHost_hostId_fkey";

-- DropIndex
DROP INDEX "Host_name_key";

-- AlterTable
ALTER TABLE "Exception" ADD COLUMN     "decisionNote" TEXT,
ADD COLUMN     "expiredAt" TIMESTAMP(3),
ADD COLUMN     "rejectedAt" TIMESTAMP(3),
ADD COLUMN     "rejectedById" UUID,
ADD COLUMN     "revokedAt" TIMESTAMP(3),
ADD COLUMN     "revokedById" UUID;

-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "retiredAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "HostName" (
    "id" BIGSERIAL NOT NULL,
    "hostId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "from" TIMESTAMP(3) NOT NULL,
    "until" TIMESTAMP(3),

    CONSTRAINT "HostName_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "HostName_hostId_from_idx" ON "HostName"("hostId", "from");

-- CreateIndex
CREATE INDEX "HostName_from_until_idx" ON "HostName"("from", "until");

-- CreateIndex
CREATE INDEX "Exception_expiresAt_idx" ON "Exception"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Host_name_key" ON "Host"("name") WHERE ("retiredAt" IS NULL);

-- AddForeignKey
ALTER TABLE "Endpoint" ADD CONSTRAINT "Endpoint_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConfigSnapshot" ADD CONSTRAINT "ConfigSnapshot_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exception" ADD CONSTRAINT "Exception_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobTask" ADD CONSTRAINT "JobTask_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutHost" ADD CONSTRAINT "RolloutHost_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: the name history. A trigger, so every way a host is created or renamed (the
-- form, the API, the CSV import's INSERT ... ON CONFLICT, the demo fleet) records it. Times are
-- UTC like every Prisma DateTime column.
INSERT INTO "HostName" ("hostId", "name", "from", "until")
SELECT "id", "name", "createdAt", "retiredAt" FROM "Host";

CREATE FUNCTION "host_name_history"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  at timestamp(3) := COALESCE(NEW."retiredAt", now() AT TIME ZONE 'UTC');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "HostName" ("hostId", "name", "from", "until") VALUES (NEW."id", NEW."name", NEW."createdAt", NEW."retiredAt");
    RETURN NEW;
  END IF;
  IF OLD."retiredAt" IS NULL AND (NEW."name" IS DISTINCT FROM OLD."name" OR NEW."retiredAt" IS NOT NULL) THEN
    UPDATE "HostName" SET "until" = at WHERE "hostId" = NEW."id" AND "until" IS NULL;
    IF NEW."retiredAt" IS NULL THEN
      INSERT INTO "HostName" ("hostId", "name", "from") VALUES (NEW."id", NEW."name", at);
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "Host_name_history" AFTER INSERT OR UPDATE OF "name", "retiredAt" ON "Host"
FOR EACH ROW EXECUTE FUNCTION "host_name_history"();
