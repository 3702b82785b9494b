-- CreateTable
CREATE TABLE "WorkerPresence" (
    "workerId" TEXT NOT NULL,
    "registeredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sees" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "fitsShare" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "WorkerPresence_pkey" PRIMARY KEY ("workerId")
);

-- CreateTable
CREATE TABLE "ServerBudget" (
    "server" TEXT NOT NULL,
    "limit" INTEGER NOT NULL,
    "until" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ServerBudget_pkey" PRIMARY KEY ("server")
);

-- CreateIndex
CREATE INDEX "WorkerPresence_heartbeatAt_idx" ON "WorkerPresence"("heartbeatAt");
