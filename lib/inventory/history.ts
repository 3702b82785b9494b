import "server-only";
// Hosts over time, for evidence exports: which hosts existed during a period (retired ones
// included, for the part of it they existed) and the names they had meanwhile. The HostName rows
// are written by a trigger on "Host" (migration evidence_survives), so every way a host is
// created, renamed or retired is recorded.
import { prisma } from "../db";

export interface HostName {
  name: string;
  from: Date;
  /** null: still the host's name. */
  until: Date | null;
}

export interface HostDuring {
  id: string;
  createdAt: Date;
  retiredAt: Date | null;
  /** The names the host had during the period, oldest first. */
  names: HostName[];
}

/**
 * Every host that existed at some time in [from, to): created before `to` and not retired before
 * `from`. Ordered by the name it had last in the period.
 */
export async function hostsExistingDuring(from: Date, to: Date): Promise<HostDuring[]> {
  const rows = await prisma.$queryRaw<Array<{ id: string; createdAt: Date; retiredAt: Date | null; names: Array<{ name: string; from: string; until: string | null }> }>>`
    SELECT h.id::text, h."createdAt", h."retiredAt",
           json_agg(json_build_object('name', n.name, 'from', n."from", 'until', n."until") ORDER BY n."from", n.id) AS names
    FROM "Host" h JOIN "HostName" n ON n."hostId" = h.id
    WHERE h."createdAt" < ${to} AND (h."retiredAt" IS NULL OR h."retiredAt" > ${from})
      AND n."from" < ${to} AND (n."until" IS NULL OR n."until" > ${from})
    GROUP BY h.id`;
  const utc = (text: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  const hosts = rows.map((r) => ({ id: r.id, createdAt: r.createdAt, retiredAt: r.retiredAt, names: r.names.map((n) => ({ name: n.name, from: utc(n.from), until: n.until ? utc(n.until) : null })) }));
  return hosts.sort((a, b) => a.names[a.names.length - 1]!.name.localeCompare(b.names[b.names.length - 1]!.name));
}

/** The name a host had at `at` (for a result or snapshot taken then), or its first name in the period. */
export function nameAt(host: HostDuring, at: Date): string {
  const current = host.names.find((n) => n.from <= at && (n.until === null || n.until > at));
  return (current ?? host.names[0]!).name;
}
