-- CreateIndex
CREATE INDEX "HostStatus_lastScanAt_hostId_idx" ON "HostStatus"("lastScanAt", "hostId");
