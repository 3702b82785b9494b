-- CreateExtension
-- Added by hand: the trigram index "Host_name_trgm_idx" below needs pg_trgm (see schema.prisma).
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('viewer', 'operator', 'admin');

-- CreateEnum
CREATE TYPE "Platform" AS ENUM ('windows', 'linux', 'other');

-- CreateEnum
CREATE TYPE "Transport" AS ENUM ('ssh', 'winrm', 'none');

-- CreateEnum
CREATE TYPE "TlsStart" AS ENUM ('starttls', 'implicit');

-- CreateEnum
CREATE TYPE "CredentialKind" AS ENUM ('ssh_key', 'ssh_password', 'winrm_ntlm', 'winrm_basic');

-- CreateEnum
CREATE TYPE "ComplianceStatus" AS ENUM ('compliant', 'noncompliant', 'at_risk', 'pending_reboot', 'mismatch', 'unreachable', 'error', 'unknown', 'excepted');

-- CreateEnum
CREATE TYPE "JobKind" AS ENUM ('scan', 'audit', 'remediate', 'verify', 'reboot', 'rollback');

-- CreateEnum
CREATE TYPE "JobState" AS ENUM ('pending_approval', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'halted');

-- CreateEnum
CREATE TYPE "TaskState" AS ENUM ('not_started', 'queued', 'running', 'succeeded', 'failed', 'unreachable', 'cancelled', 'pending_reboot', 'skipped');

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'viewer',
    "passwordHash" TEXT NOT NULL,
    "tokenVersion" INTEGER NOT NULL DEFAULT 0,
    "disabledAt" TIMESTAMP(3),
    "lastLoginAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scopes" TEXT[],
    "ownerId" UUID NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoginAttempt" (
    "id" BIGSERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "succeeded" BOOLEAN NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LoginAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Credential" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "CredentialKind" NOT NULL,
    "username" TEXT NOT NULL,
    "secretEncrypted" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Host" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "platform" "Platform" NOT NULL DEFAULT 'other',
    "roles" TEXT[],
    "tags" TEXT[],
    "group" TEXT,
    "owner" TEXT,
    "transport" "Transport" NOT NULL DEFAULT 'none',
    "port" INTEGER,
    "credentialId" UUID,
    "pinnedKey" TEXT,
    "pinnedKeyPending" TEXT,
    "pinnedAt" TIMESTAMP(3),
    "osName" TEXT,
    "osBuild" TEXT,
    "facts" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Host_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Endpoint" (
    "id" UUID NOT NULL,
    "hostId" UUID NOT NULL,
    "port" INTEGER NOT NULL,
    "service" TEXT NOT NULL,
    "tlsStart" "TlsStart" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Endpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProbeResult" (
    "id" BIGSERIAL NOT NULL,
    "endpointId" UUID NOT NULL,
    "jobId" UUID,
    "probedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "starttls" TEXT NOT NULL,
    "protocols" JSONB NOT NULL,
    "ciphers" JSONB,
    "certificate" JSONB,
    "verdict" TEXT NOT NULL,
    "error" TEXT,
    "durationMs" INTEGER,

    CONSTRAINT "ProbeResult_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConfigSnapshot" (
    "id" BIGSERIAL NOT NULL,
    "hostId" UUID NOT NULL,
    "jobId" UUID,
    "takenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "playbook" TEXT NOT NULL,
    "state" JSONB NOT NULL,
    "raw" TEXT NOT NULL,
    "rebootPending" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "ConfigSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HostStatus" (
    "hostId" UUID NOT NULL,
    "status" "ComplianceStatus" NOT NULL DEFAULT 'unknown',
    "explanation" TEXT NOT NULL,
    "firstFailingAt" TIMESTAMP(3),
    "lastChangedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastScanAt" TIMESTAMP(3),

    CONSTRAINT "HostStatus_pkey" PRIMARY KEY ("hostId")
);

-- CreateTable
CREATE TABLE "StatusHistory" (
    "id" BIGSERIAL NOT NULL,
    "hostId" UUID NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" "ComplianceStatus" NOT NULL,
    "previous" "ComplianceStatus",
    "explanation" TEXT NOT NULL,

    CONSTRAINT "StatusHistory_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Exception" (
    "id" UUID NOT NULL,
    "hostId" UUID NOT NULL,
    "endpointPort" INTEGER,
    "version" TEXT,
    "justification" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "requestedById" UUID NOT NULL,
    "approvedById" UUID,
    "approvedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Exception_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" UUID NOT NULL,
    "kind" "JobKind" NOT NULL,
    "state" "JobState" NOT NULL DEFAULT 'queued',
    "target" JSONB NOT NULL,
    "parameters" JSONB NOT NULL,
    "requestedById" UUID,
    "approvedById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "cancelledAt" TIMESTAMP(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JobTask" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "hostId" UUID NOT NULL,
    "state" "TaskState" NOT NULL DEFAULT 'queued',
    "wave" INTEGER NOT NULL DEFAULT 0,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "log" TEXT NOT NULL DEFAULT '',
    "before" JSONB,
    "after" JSONB,
    "error" TEXT,
    "lockedBy" TEXT,
    "lockedUntil" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "JobTask_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "details" JSONB,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_ownerId_idx" ON "ApiToken"("ownerId");

-- CreateIndex
CREATE INDEX "LoginAttempt_email_address_at_idx" ON "LoginAttempt"("email", "address", "at");

-- CreateIndex
CREATE UNIQUE INDEX "Credential_name_key" ON "Credential"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Host_name_key" ON "Host"("name");

-- CreateIndex
CREATE INDEX "Host_group_idx" ON "Host"("group");

-- CreateIndex
CREATE INDEX "Host_platform_idx" ON "Host"("platform");

-- CreateIndex
CREATE INDEX "Host_tags_idx" ON "Host" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "Host_roles_idx" ON "Host" USING GIN ("roles");

-- CreateIndex
CREATE INDEX "Host_name_trgm_idx" ON "Host" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "Endpoint_hostId_port_key" ON "Endpoint"("hostId", "port");

-- CreateIndex
CREATE INDEX "ProbeResult_endpointId_probedAt_idx" ON "ProbeResult"("endpointId", "probedAt" DESC);

-- CreateIndex
CREATE INDEX "ProbeResult_jobId_idx" ON "ProbeResult"("jobId");

-- CreateIndex
CREATE INDEX "ConfigSnapshot_hostId_takenAt_idx" ON "ConfigSnapshot"("hostId", "takenAt" DESC);

-- CreateIndex
CREATE INDEX "HostStatus_status_idx" ON "HostStatus"("status");

-- CreateIndex
CREATE INDEX "HostStatus_firstFailingAt_idx" ON "HostStatus"("firstFailingAt");

-- CreateIndex
CREATE INDEX "StatusHistory_hostId_at_idx" ON "StatusHistory"("hostId", "at" DESC);

-- CreateIndex
CREATE INDEX "StatusHistory_at_idx" ON "StatusHistory"("at");

-- CreateIndex
CREATE INDEX "Exception_hostId_idx" ON "Exception"("hostId");

-- CreateIndex
CREATE INDEX "Job_createdAt_idx" ON "Job"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "Job_state_idx" ON "Job"("state");

-- CreateIndex
CREATE INDEX "JobTask_jobId_state_idx" ON "JobTask"("jobId", "state");

-- CreateIndex
CREATE INDEX "JobTask_hostId_idx" ON "JobTask"("hostId");

-- CreateIndex
CREATE UNIQUE INDEX "JobTask_jobId_hostId_key" ON "JobTask"("jobId", "hostId");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_hash_key" ON "AuditEvent"("hash");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_action_idx" ON "AuditEvent"("action");

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Host" ADD CONSTRAINT "Host_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Endpoint" ADD CONSTRAINT "Endpoint_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProbeResult" ADD CONSTRAINT "ProbeResult_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConfigSnapshot" ADD CONSTRAINT "ConfigSnapshot_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HostStatus" ADD CONSTRAINT "HostStatus_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exception" ADD CONSTRAINT "Exception_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobTask" ADD CONSTRAINT "JobTask_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobTask" ADD CONSTRAINT "JobTask_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;
