-- AlterTable
ALTER TABLE "Credential" ADD COLUMN     "scopeCidrs" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "scopeGroups" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "scopeHosts" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "allowWinrmHttp" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "legacyTls" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "trustOnFirstUse" BOOLEAN NOT NULL DEFAULT false;

-- Existing credentials keep working where they are attached today (docs/security.md "Credential
-- scope"): each gets the names of the hosts that use it. Nothing else is in scope until an admin
-- widens it; a credential attached nowhere is usable nowhere.
UPDATE "Credential" c SET "scopeHosts" = COALESCE((SELECT array_agg(h."name" ORDER BY h."name") FROM "Host" h WHERE h."credentialId" = c."id"), ARRAY[]::TEXT[]);
UPDATE "Credential" SET "scopeCidrs" = ARRAY[]::TEXT[] WHERE "scopeCidrs" IS NULL;
UPDATE "Credential" SET "scopeGroups" = ARRAY[]::TEXT[] WHERE "scopeGroups" IS NULL;
ALTER TABLE "Credential" ALTER COLUMN "scopeHosts" SET NOT NULL, ALTER COLUMN "scopeGroups" SET NOT NULL, ALTER COLUMN "scopeCidrs" SET NOT NULL;

-- WinRM over HTTP that works today keeps working: hosts on 5985 with a credential are flagged.
UPDATE "Host" SET "allowWinrmHttp" = true WHERE "transport" = 'winrm' AND "port" = 5985 AND "credentialId" IS NOT NULL;
