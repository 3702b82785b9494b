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

export interface ChainEvent extends ChainedFields {
  id: bigint | string;
  seq: bigint;
  hash: string;
}

/** Where an event sits in the chain, for looking up the event another one points at. */
export interface ChainPlace {
  seq: bigint;
}

export type ProblemKind = "edited" | "deleted" | "inserted" | "reordered" | "truncated" | "checkpoint-mismatch";

export interface ChainProblem {
  kind: ProblemKind;
  /** The chain position the problem was found at. */
  seq: bigint;
  /** The event named in the message (null when it is gone). */
  eventId: string | null;
  message: string;
}

/** What a checkpoint says about the chain: event `seq` has hash `hash`. */
export interface CheckpointClaim {
  number: number;
  at: Date;
  seq: bigint;
  hash: string;
}

export function describeEvent(e: Pick<ChainEvent, "id" | "seq" | "action" | "target" | "at">): string {
  return `#${e.seq} (id ${e.id}, ${e.action}${e.target ? ` ${e.target}` : ""}, ${e.at.toISOString()})`;
}

/**
 * Walks events in chain order and names the first problem. Pure: the caller feeds events and
 * answers "which event has this hash" (an indexed lookup in the database, a map for a file), so
 * a million events never sit in memory. `claims` are the verified checkpoints: each must match
 * the event at its position, and the chain must reach the newest one (else the tail was cut).
 */
export class ChainWalker {
  private prev: { seq: bigint; hash: string; event: ChainEvent | null };
  private readonly claims: Map<bigint, CheckpointClaim>;
  private readonly newestClaim: CheckpointClaim | null;
  count = 0;

  constructor(
    private readonly findByHash: (hash: string) => Promise<ChainPlace | null>,
    claims: CheckpointClaim[] = [],
    start: { seq: bigint; hash: string } = { seq: 0n, hash: GENESIS_HASH },
  ) {
    this.prev = { ...start, event: null };
    this.claims = new Map(claims.filter((c) => c.seq > start.seq).map((c) => [c.seq, c]));
    this.newestClaim = claims.reduce<CheckpointClaim | null>((a, c) => (!a || c.number > a.number ? c : a), null);
  }

  /** The last event found intact. */
  get head(): { seq: bigint; hash: string } {
    return { seq: this.prev.seq, hash: this.prev.hash };
  }

  async push(e: ChainEvent): Promise<ChainProblem | null> {
    const expected = this.prev.seq + 1n;
    const name = describeEvent(e);
    if (eventHash(e) !== e.hash) {
      return { kind: "edited", seq: e.seq, eventId: String(e.id), message: `event ${name} was edited: its content no longer matches its hash` };
    }
    if (e.seq > expected) {
      const missing = e.seq - expected === 1n ? `event #${expected} is` : `events #${expected} to #${e.seq - 1n} are`;
      return { kind: "deleted", seq: expected, eventId: null, message: `${missing} missing (deleted): the chain jumps from #${this.prev.seq} to ${name}` };
    }
    if (e.prevHash !== this.prev.hash) {
      const target = e.prevHash === GENESIS_HASH ? { seq: 0n } : await this.findByHash(e.prevHash);
      const before = this.prev.event;
      if (target && target.seq === e.seq - 2n && before) {
        return { kind: "inserted", seq: before.seq, eventId: String(before.id), message: `event ${describeEvent(before)} was inserted: ${name} chains onto #${target.seq}, the event before it` };
      }
      if (target) {
        return { kind: "reordered", seq: e.seq, eventId: String(e.id), message: `event ${name} is out of order: it chains onto #${target.seq}, not #${e.seq - 1n}` };
      }
      return { kind: "deleted", seq: e.seq, eventId: String(e.id), message: `the event before ${name} is missing (deleted and the rest renumbered): it chains onto a hash no event has` };
    }
    const claim = this.claims.get(e.seq);
    if (claim && claim.hash !== e.hash) {
      return { kind: "checkpoint-mismatch", seq: e.seq, eventId: String(e.id), message: `event ${name} differs from checkpoint ${claim.number} (${claim.at.toISOString()}): the chain up to it was rewritten` };
    }
    this.prev = { seq: e.seq, hash: e.hash, event: e };
    this.count++;
    return null;
  }

  /** After the last event: the newest checkpoint must not lie beyond the end of the chain. */
  finish(): ChainProblem | null {
    const c = this.newestClaim;
    if (c && c.seq > this.prev.seq) {
      const last = this.prev.event ? describeEvent(this.prev.event) : `#${this.prev.seq}`;
      return {
        kind: "truncated",
        seq: this.prev.seq + 1n,
        eventId: null,
        message: `the tail was cut: the chain ends at ${last}, but checkpoint ${c.number} (${c.at.toISOString()}) covers #${c.seq}; events #${this.prev.seq + 1n} to #${c.seq} were deleted`,
      };
    }
    return null;
  }
}
