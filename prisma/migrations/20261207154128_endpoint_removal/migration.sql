-- DropForeignKey
ALTER TABLE "ProbeResult" DROP CONSTRAINT "ProbeResult_endpointId_fkey";

-- DropIndex
DROP INDEX "Endpoint_hostId_port_key";

-- AlterTable
ALTER TABLE "Endpoint" ADD COLUMN     "removedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Endpoint_hostId_port_idx" ON "Endpoint"("hostId", "port");

-- CreateIndex
CREATE UNIQUE INDEX "Endpoint_hostId_port_key" ON "Endpoint"("hostId", "port") WHERE ("removedAt" IS NULL);

-- AddForeignKey
ALTER TABLE "ProbeResult" ADD CONSTRAINT "ProbeResult_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
