import "server-only";
// The sink's records in the database, so that any worker's outbound check task finds what its
// host did, whichever worker runs the sink.
import { prisma } from "../db";
import type { SinkRecord } from "./sink";
import type { ObservedConnection } from "./verdict";

/** The address part of "a.b.c.d:port" / "[v6]:port" / "v6:port" as the sink records it. */
export function clientAddressOf(client: string): string {
  const i = client.lastIndexOf(":");
  const address = i > 0 ? client.slice(0, i) : client;
  return address.replace(/^\[|\]$/g, "").replace(/^::ffff:/, "");
}

export async function storeObservation(record: SinkRecord): Promise<void> {
  await prisma.outboundObservation.create({
    data: {
      at: record.at,
      client: record.client,
      clientAddress: clientAddressOf(record.client),
      ehlo: record.ehlo,
      startTls: record.startTls,
      offeredHighest: record.offered?.highest ?? null,
      offeredVersions: record.offered?.versions ?? [],
      offeredListed: record.offered?.versions != null,
      negotiated: record.negotiated,
      cipher: record.cipher,
      failure: record.failure,
      tokens: record.tokens,
      messages: record.messages,
    },
  });
}

/**
 * The connections of one check: those carrying its token (in a recipient, or as the EHLO name,
 * which the Windows check sends before STARTTLS), and, since Postfix's refused handshake ends
 * before any recipient (and so any token) is sent, those from the given addresses since the
 * check began (none: the token alone decides).
 */
export async function observationsFor(token: string, addresses: readonly string[], since: Date): Promise<ObservedConnection[]> {
  return prisma.outboundObservation.findMany({
    where: { OR: [{ tokens: { has: token } }, { ehlo: `tlsfleet-check-${token}` }, ...(addresses.length > 0 ? [{ clientAddress: { in: [...addresses] }, at: { gte: since } }] : [])] },
    orderBy: { at: "asc" },
    take: 50,
    select: { at: true, startTls: true, offeredHighest: true, offeredVersions: true, offeredListed: true, negotiated: true, failure: true, messages: true },
  });
}

/** The newest outbound check of a host, for the host page; null when it never had one. */
export function latestOutboundCheck(hostId: string) {
  return prisma.outboundCheck.findFirst({ where: { hostId }, orderBy: { checkedAt: "desc" }, select: { checkedAt: true, outcome: true, negotiated: true, detail: true, sink: true, jobId: true } });
}
