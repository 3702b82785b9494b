-- AlterEnum
ALTER TYPE "JobKind" ADD VALUE 'outbound_check';

-- CreateTable
CREATE TABLE "OutboundObservation" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "client" TEXT NOT NULL,
    "clientAddress" TEXT NOT NULL,
    "ehlo" TEXT,
    "startTls" BOOLEAN NOT NULL,
    "offeredHighest" TEXT,
    "offeredVersions" TEXT[],
    "offeredListed" BOOLEAN NOT NULL,
    "negotiated" TEXT,
    "cipher" TEXT,
    "failure" TEXT,
    "tokens" TEXT[],
    "messages" INTEGER NOT NULL,

    CONSTRAINT "OutboundObservation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboundCheck" (
    "id" UUID NOT NULL,
    "hostId" UUID NOT NULL,
    "jobId" UUID,
    "checkedAt" TIMESTAMP(3) NOT NULL,
    "sink" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "negotiated" TEXT,
    "offered" TEXT[],
    "detail" TEXT NOT NULL,

    CONSTRAINT "OutboundCheck_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "OutboundObservation_clientAddress_at_idx" ON "OutboundObservation"("clientAddress", "at");

-- CreateIndex
CREATE INDEX "OutboundObservation_tokens_idx" ON "OutboundObservation" USING GIN ("tokens");

-- CreateIndex
CREATE INDEX "OutboundObservation_at_idx" ON "OutboundObservation"("at");

-- CreateIndex
CREATE INDEX "OutboundCheck_hostId_checkedAt_idx" ON "OutboundCheck"("hostId", "checkedAt" DESC);

-- AddForeignKey
ALTER TABLE "OutboundCheck" ADD CONSTRAINT "OutboundCheck_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
