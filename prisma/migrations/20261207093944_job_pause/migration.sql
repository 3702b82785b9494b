-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "pausedAt" TIMESTAMP(3);
