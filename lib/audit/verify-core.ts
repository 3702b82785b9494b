// One verification for both sources: the database (lib/audit/verify.ts) and an export file
// (lib/audit/export.ts). Pure: events come from an iterator, lookups from a callback.
import type { KeyObject } from "node:crypto";
import { ChainWalker, GENESIS_HASH, type ChainEvent, type ChainPlace, type ProblemKind } from "./chain";
import { verifyCheckpoints, type SignedCheckpoint } from "./checkpoint";
import { formatUtc } from "../time";

export interface VerifyProblem {
  kind: ProblemKind | "checkpoint";
  seq: bigint | null;
  eventId: string | null;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Events walked in this run. */
  checked: number;
  /** Where this run started (0 = from the first event) and the last event found intact. */
  fromSeq: bigint;
  head: { seq: bigint; hash: string };
  /** The newest checkpoint whose signature verified. */
  checkpoint: { number: number; at: Date; seq: bigint } | null;
  problem: VerifyProblem | null;
}

export interface VerifySource {
  events: AsyncIterable<ChainEvent> | Iterable<ChainEvent>;
  findByHash: (hash: string) => Promise<ChainPlace | null>;
  checkpoints: SignedCheckpoint[];
  publicKey: KeyObject;
  start?: { seq: bigint; hash: string };
}

export async function verifyChain(source: VerifySource): Promise<VerifyReport> {
  const start = source.start ?? { seq: 0n, hash: GENESIS_HASH };
  const { claims, problem: checkpointProblem } = verifyCheckpoints(source.checkpoints, source.publicKey);
  const newest = claims.at(-1);
  const checkpoint = newest ? { number: newest.number, at: newest.at, seq: newest.seq } : null;
  const walker = new ChainWalker(source.findByHash, claims, start);
  const report = (problem: VerifyProblem | null): VerifyReport => ({ ok: problem === null, checked: walker.count, fromSeq: start.seq, head: walker.head, checkpoint, problem });
  if (checkpointProblem) return report({ kind: "checkpoint", seq: null, eventId: null, message: checkpointProblem.message });
  for await (const e of source.events) {
    const problem = await walker.push(e);
    if (problem) return report(problem);
  }
  return report(walker.finish());
}

/** One line for people: "verified 100000 events up to #100000, checkpoint 12 at 2026-12-07 10:00 UTC". */
export function describeReport(r: VerifyReport): string {
  const cp = r.checkpoint ? `checkpoint ${r.checkpoint.number} at ${formatUtc(r.checkpoint.at)}` : "no checkpoint yet";
  if (r.ok) return `OK: ${r.checked} events verified up to #${r.head.seq} (${cp})`;
  return `BROKEN (${r.problem!.kind}): ${r.problem!.message}`;
}
