-- AlterTable
ALTER TABLE "JobTask" ADD COLUMN     "leaseExpiries" INTEGER NOT NULL DEFAULT 0;
