-- CreateEnum
CREATE TYPE "RolloutState" AS ENUM ('planning', 'planned', 'approved', 'running', 'paused', 'halted', 'cancelled', 'succeeded', 'failed');

-- AlterEnum
ALTER TYPE "JobKind" ADD VALUE 'plan';

-- CreateTable
CREATE TABLE "Rollout" (
    "id" UUID NOT NULL,
    "goals" TEXT[],
    "state" "RolloutState" NOT NULL DEFAULT 'planning',
    "target" JSONB NOT NULL,
    "settings" JSONB NOT NULL,
    "requestedById" UUID,
    "requestedBy" TEXT NOT NULL,
    "planHash" TEXT,
    "requiresSecondAdmin" BOOLEAN NOT NULL DEFAULT false,
    "approvalRule" TEXT,
    "approvedById" UUID,
    "approvedBy" TEXT,
    "approvedAt" TIMESTAMP(3),
    "approvedHash" TEXT,
    "haltReason" TEXT,
    "currentWave" INTEGER NOT NULL DEFAULT -1,
    "planJobId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RolloutHost" (
    "id" UUID NOT NULL,
    "rolloutId" UUID NOT NULL,
    "hostId" UUID,
    "hostName" TEXT NOT NULL,
    "wave" INTEGER NOT NULL DEFAULT 0,
    "state" TEXT NOT NULL DEFAULT 'planned',
    "reason" TEXT,
    "plan" JSONB,
    "rebootNeeded" BOOLEAN NOT NULL DEFAULT false,
    "before" JSONB,
    "after" JSONB,
    "bootIdentity" TEXT,
    "log" TEXT NOT NULL DEFAULT '',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RolloutHost_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Rollout_createdAt_idx" ON "Rollout"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "Rollout_state_idx" ON "Rollout"("state");

-- CreateIndex
CREATE INDEX "RolloutHost_hostId_idx" ON "RolloutHost"("hostId");

-- CreateIndex
CREATE INDEX "RolloutHost_rolloutId_wave_idx" ON "RolloutHost"("rolloutId", "wave");

-- CreateIndex
CREATE UNIQUE INDEX "RolloutHost_rolloutId_hostId_key" ON "RolloutHost"("rolloutId", "hostId");

-- AddForeignKey
ALTER TABLE "RolloutHost" ADD CONSTRAINT "RolloutHost_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "Rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutHost" ADD CONSTRAINT "RolloutHost_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;
