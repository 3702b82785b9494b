-- CreateTable
CREATE TABLE "ComplianceDaily" (
    "day" DATE NOT NULL,
    "status" "ComplianceStatus" NOT NULL,
    "hosts" INTEGER NOT NULL,
    "computedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ComplianceDaily_pkey" PRIMARY KEY ("day","status")
);
