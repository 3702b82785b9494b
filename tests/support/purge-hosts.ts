// Test clean-up only: removes hosts AND their evidence. The application never does this (a
// deleted host is retired and its evidence kept, lib/inventory/hosts.ts), and the foreign keys
// refuse a host removed from under its evidence, so the evidence goes first.
import { prisma } from "@/lib/db";

/** Every host whose name starts with `prefix` (every host when omitted), with all it left behind. */
export async function purgeHosts(prefix = ""): Promise<void> {
  const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  await prisma.$transaction(async (tx) => {
    const ids = (await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM "Host" WHERE name LIKE ${like}`).map((h) => h.id);
    if (!ids.length) return;
    // Probe results are kept when an endpoint is removed (a Restrict FK), so they go first.
    await tx.$executeRaw`DELETE FROM "ProbeResult" r USING "Endpoint" e WHERE e.id = r."endpointId" AND e."hostId" = ANY(CAST(${ids} AS uuid[]))`;
    for (const table of ["Exception", "JobTask", "RolloutHost", "ConfigSnapshot", "Endpoint", "HostName", "StatusHistory"]) {
      await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "hostId" = ANY($1::uuid[])`, ids);
    }
    await tx.$executeRaw`DELETE FROM "Host" WHERE id = ANY(CAST(${ids} AS uuid[]))`;
  }, { timeout: 120_000 });
}
