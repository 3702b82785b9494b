import "server-only";
// Append-only audit log. Writers serialise on a transaction-scoped advisory lock so two
// concurrent events can never both chain onto the same predecessor.
import { prisma } from "../db";
import { eventHash, findChainBreak, GENESIS_HASH, type ChainBreak } from "./chain";

type Tx = Parameters<Parameters<typeof prisma.$transaction>[0]>[0];

export interface AuditInput {
  actor: string; // email, "system", "worker:<id>", "api-token:<prefix>"
  actorId?: string | null;
  action: string; // "user.create", "auth.login_failed", ...
  target?: string | null;
  details?: Record<string, unknown> | null;
}

const AUDIT_LOCK_KEY = 7_351_001; // arbitrary, constant: pg_advisory_xact_lock key for the chain

async function appendInTx(tx: Tx, input: AuditInput) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { hash: true } });
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
    data: { ...fields, details: (fields.details ?? undefined) as never, hash },
  });
}

/** Records an event inside the caller's transaction (so the mutation and its record commit together). */
export function recordAuditInTx(tx: Tx, input: AuditInput) {
  return appendInTx(tx, input);
}

/** Records an event on its own. */
export function recordAudit(input: AuditInput) {
  return prisma.$transaction((tx) => appendInTx(tx, input));
}

export async function verifyAuditChain(): Promise<{ ok: true; count: number } | { ok: false; count: number; break: ChainBreak }> {
  const batch = 5000;
  let prev = GENESIS_HASH;
  let cursor: bigint | undefined;
  let count = 0;
  for (;;) {
    const rows = await prisma.auditEvent.findMany({
      orderBy: { id: "asc" },
      take: batch,
      ...(cursor !== undefined ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (rows.length === 0) return { ok: true, count };
    const broken = findChainBreak(rows, prev);
    if (broken) return { ok: false, count: count + rows.length, break: broken };
    count += rows.length;
    prev = rows[rows.length - 1].hash;
    cursor = rows[rows.length - 1].id;
  }
}
