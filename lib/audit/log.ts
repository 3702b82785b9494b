import "server-only";
// Append-only audit log. Writers serialise on a transaction-scoped advisory lock so two
// concurrent events can never both chain onto the same predecessor.
import { prisma } from "../db";
import { eventHash, GENESIS_HASH } from "./chain";
import type { Tx } from "../db";


export interface AuditInput {
  actor: string; // email, "system", "worker:<id>", "api-token:<prefix>"
  actorId?: string | null;
  action: string; // "user.create", "auth.login_failed", ...
  target?: string | null;
  details?: Record<string, unknown> | null;
}

// Arbitrary, constant: pg_advisory_xact_lock key for the chain (events and checkpoints).
export const AUDIT_LOCK_KEY = 7_351_001;

/** Serialises on the chain: the head read after this cannot move until the transaction ends. */
export async function lockAuditChain(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
}

// Read under the lock in a READ COMMITTED transaction: each statement sees every event committed
// before it, so the head is the newest event. (Under REPEATABLE READ the snapshot could predate
// the lock and two events would chain onto one predecessor; no caller records audit in one.)
async function appendInTx(tx: Tx, input: AuditInput) {
  await lockAuditChain(tx);
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true, seq: true } });
  const prevHash = last?.hash ?? GENESIS_HASH;
  const at = new Date();
  const fields = {
    at,
    actor: input.actor,
    actorId: input.actorId ?? null,
    action: input.action,
    target: input.target ?? null,
    details: input.details ?? null,
    prevHash,
  };
  const hash = eventHash(fields);
  return tx.auditEvent.create({
    data: { ...fields, seq: (last?.seq ?? 0n) + 1n, details: (fields.details ?? undefined) as never, hash },
  });
}

/** Records an event inside the caller's transaction (so the mutation and its record commit together). */
export function recordAuditInTx(tx: Tx, input: AuditInput) {
  return appendInTx(tx, input);
}

// Standalone events of this process queue here before taking a connection: otherwise a burst
// (200 at once) parks every pooled connection on the chain lock, starving the process's other
// queries, and the later ones give up waiting for a connection ("Unable to start a transaction").
let queue: Promise<unknown> = Promise.resolve();

/** Records an event on its own. */
export function recordAudit(input: AuditInput) {
  const appended = queue.then(() => prisma.$transaction((tx) => appendInTx(tx, input), { maxWait: 15_000 }));
  queue = appended.catch(() => undefined);
  return appended;
}
