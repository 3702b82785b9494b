-- DropIndex
DROP INDEX "HostStatus_status_idx";

-- CreateIndex
CREATE INDEX "HostStatus_status_firstFailingAt_idx" ON "HostStatus"("status", "firstFailingAt");
