-- CreateIndex
CREATE INDEX "HostName_name_hostId_idx" ON "HostName"("name", "hostId");
