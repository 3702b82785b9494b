// Pure part of the tamper-evident audit log: each event's hash covers its content and the
// previous event's hash, so editing or deleting any row breaks every hash after it.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);

export interface ChainedFields {
  at: Date;
  actor: string;
  actorId: string | null;
  action: string;
  target: string | null;
  details: unknown;
  prevHash: string;
}

/** Canonical JSON: keys sorted at every level so the hash never depends on insertion order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function eventHash(e: ChainedFields): string {
  const body = canonicalJson({
    at: e.at.toISOString(),
    actor: e.actor,
    actorId: e.actorId,
    action: e.action,
    target: e.target,
    details: e.details ?? null,
    prevHash: e.prevHash,
  });
  return createHash("sha256").update(body).digest("hex");
}

export interface ChainBreak {
  id: string;
  reason: "prev-hash" | "hash";
}

/** Walks events in id order; returns the first break, or null when the chain is intact. */
export function findChainBreak(events: Array<ChainedFields & { id: bigint | string; hash: string }>, startPrev = GENESIS_HASH): ChainBreak | null {
  let prev = startPrev;
  for (const e of events) {
    if (e.prevHash !== prev) return { id: String(e.id), reason: "prev-hash" };
    if (eventHash(e) !== e.hash) return { id: String(e.id), reason: "hash" };
    prev = e.hash;
  }
  return null;
}
