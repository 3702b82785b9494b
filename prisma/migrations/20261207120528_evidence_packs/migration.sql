-- CreateEnum
CREATE TYPE "EvidencePackState" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "EvidencePack" (
    "id" UUID NOT NULL,
    "state" "EvidencePackState" NOT NULL DEFAULT 'queued',
    "scope" JSONB NOT NULL,
    "title" TEXT NOT NULL,
    "periodStart" TIMESTAMP(3) NOT NULL,
    "requestedById" UUID,
    "requestedBy" TEXT NOT NULL,
    "stage" TEXT NOT NULL DEFAULT 'queued',
    "hostsTotal" INTEGER NOT NULL DEFAULT 0,
    "hostsDone" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "pdf" BYTEA,
    "pdfSha256" TEXT,
    "auditEventId" BIGINT,
    "auditHash" TEXT,
    "cutAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "EvidencePack_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EvidencePack_createdAt_idx" ON "EvidencePack"("createdAt" DESC);
