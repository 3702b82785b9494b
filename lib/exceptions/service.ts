import "server-only";
// The exception workflow (docs/exceptions.md): request (operator), approve or reject (an admin who
// is not the requester), revoke (admin), and the expiry sweep. Each step is one transaction with
// its audit event; approving, revoking and expiring recompute the host's status in it.
//
// Lock order, as for a finishing task (lib/jobs/tasks.ts): the exception row, then the host row
// (updateHostStatusInTx), then the audit chain lock last.
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { recordAuditInTx } from "../audit/log";
import { notifyDrift, updateHostStatusInTx, type StatusUpdate } from "../compliance/update";
import { decisionProblem, exceptionScope, exceptionState, expiryProblem, revokeProblem, type ExceptionRequestValue, type ExceptionState } from "./model";
import { AppError } from "../errors";
import type { Tx } from "../db";
import type { UserActor } from "../auth/actor";

export class ExceptionError extends AppError {
  constructor(message: string, readonly status: 400 | 403 | 404 = 400) {
    super(message);
    this.name = "ExceptionError";
  }
}

/** An exception as read, with its host's name and the people involved (by email; null for a deleted requester). */
interface ExceptionRow {
  id: string;
  hostId: string;
  hostName: string;
  hostRetired: boolean;
  endpointPort: number | null;
  version: string | null;
  justification: string;
  expiresAt: Date;
  requestedById: string;
  requestedBy: string | null;
  createdAt: Date;
  approvedBy: string | null;
  approvedAt: Date | null;
  rejectedBy: string | null;
  rejectedAt: Date | null;
  revokedBy: string | null;
  revokedAt: Date | null;
  decisionNote: string | null;
}

/** What pages and the API show: the row with its scope in words and its state now. */
export interface ExceptionView extends Omit<ExceptionRow, "requestedBy"> {
  scope: string;
  state: ExceptionState;
  requestedBy: string;
}

function view(r: ExceptionRow, now: Date): ExceptionView {
  return { ...r, requestedBy: r.requestedBy ?? "(deleted user)", scope: exceptionScope(r), state: exceptionState(r, now) };
}

/** Exceptions with their host's name and the people involved; `where` is a condition on x. */
async function readExceptions(db: Pick<Tx, "$queryRaw">, where: Prisma.Sql, limit: number): Promise<ExceptionRow[]> {
  return db.$queryRaw<ExceptionRow[]>`
    SELECT x.id::text, x."hostId"::text AS "hostId", h.name AS "hostName", h."retiredAt" IS NOT NULL AS "hostRetired",
           x."endpointPort", x.version, x.justification, x."expiresAt", x."requestedById"::text AS "requestedById", rq.email AS "requestedBy", x."createdAt",
           ap.email AS "approvedBy", x."approvedAt", rj.email AS "rejectedBy", x."rejectedAt", rv.email AS "revokedBy", x."revokedAt", x."decisionNote"
    FROM "Exception" x JOIN "Host" h ON h.id = x."hostId"
    LEFT JOIN "User" rq ON rq.id = x."requestedById" LEFT JOIN "User" ap ON ap.id = x."approvedById"
    LEFT JOIN "User" rj ON rj.id = x."rejectedById" LEFT JOIN "User" rv ON rv.id = x."revokedById"
    WHERE ${where}
    ORDER BY x."createdAt" DESC, x.id DESC
    LIMIT ${limit}`;
}

function sqlTrue() {
  return Prisma.sql`TRUE`;
}

const LIST_LIMIT = 500;

/** Every exception of one host, newest first (the host page). */
export async function exceptionsForHost(hostId: string, now = new Date()): Promise<ExceptionView[]> {
  return (await readExceptions(prisma, Prisma.sql`x."hostId" = CAST(${hostId} AS uuid)`, LIST_LIMIT)).map((r) => view(r, now));
}

export const EXCEPTION_LIST_FILTERS = ["open", "pending", "approved", "all"] as const;
export type ExceptionListFilter = (typeof EXCEPTION_LIST_FILTERS)[number];

/** The exceptions list: "pending" waits for an admin, "approved" is in force, "open" is both. */
export async function listExceptions(filter: ExceptionListFilter = "open", now = new Date()): Promise<ExceptionView[]> {
  const at = Prisma.sql`CAST(${now.toISOString()} AS timestamptz) AT TIME ZONE 'UTC'`;
  const live = Prisma.sql`x."revokedAt" IS NULL AND x."rejectedAt" IS NULL AND x."expiresAt" > ${at}`;
  const where = {
    open: live,
    pending: Prisma.sql`${live} AND x."approvedAt" IS NULL`,
    approved: Prisma.sql`${live} AND x."approvedAt" IS NOT NULL`,
    all: sqlTrue(),
  }[filter];
  return (await readExceptions(prisma, where, LIST_LIMIT)).map((r) => view(r, now));
}

export async function getException(id: string, now = new Date()): Promise<ExceptionView | null> {
  const [row] = await readExceptions(prisma, Prisma.sql`x.id = CAST(${id} AS uuid)`, 1);
  return row ? view(row, now) : null;
}

export async function requestException(actor: UserActor, input: ExceptionRequestValue, now = new Date()): Promise<ExceptionView> {
  const problem = expiryProblem(input.expiresAt, now);
  if (problem) throw new ExceptionError(problem);
  const id = await prisma.$transaction(async (tx) => {
    const host = await tx.host.findFirst({ where: { id: input.hostId, retiredAt: null }, select: { id: true, name: true, endpoints: { where: { removedAt: null }, select: { port: true } } } });
    if (!host) throw new ExceptionError("That host is not in the inventory (any more)", 404);
    if (input.endpointPort !== undefined && !host.endpoints.some((e) => e.port === input.endpointPort)) {
      throw new ExceptionError(`${host.name} has no endpoint on port ${input.endpointPort}; choose one of its endpoints or every endpoint`);
    }
    const created = await tx.exception.create({
      data: { hostId: host.id, endpointPort: input.endpointPort ?? null, version: input.version ?? null, justification: input.justification, expiresAt: input.expiresAt, requestedById: actor.id },
    });
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "exception.requested",
      target: `host:${host.name}`,
      details: { exceptionId: created.id, scope: exceptionScope(created), endpointPort: created.endpointPort, version: created.version, justification: created.justification, expiresAt: created.expiresAt.toISOString() },
    });
    return created.id;
  });
  return (await getException(id, now))!;
}

/** Locks the exception row and reads what the rules need; a missing row is a 404. */
async function lockException(tx: Tx, id: string) {
  const [row] = await tx.$queryRaw<Array<{ hostId: string; hostName: string; hostRetired: boolean; requestedById: string; approvedAt: Date | null; rejectedAt: Date | null; revokedAt: Date | null; expiresAt: Date; endpointPort: number | null; version: string | null }>>`
    SELECT x."hostId"::text AS "hostId", h.name AS "hostName", h."retiredAt" IS NOT NULL AS "hostRetired", x."requestedById"::text AS "requestedById", x."approvedAt", x."rejectedAt", x."revokedAt", x."expiresAt", x."endpointPort", x.version
    FROM "Exception" x JOIN "Host" h ON h.id = x."hostId" WHERE x.id = CAST(${id} AS uuid) FOR UPDATE OF x`;
  if (!row) throw new ExceptionError("No such exception", 404);
  return row;
}

async function decide(actor: UserActor, id: string, how: "approve" | "reject" | "revoke", note: string | undefined, now: Date): Promise<ExceptionView> {
  let update: StatusUpdate | null = null;
  await prisma.$transaction(async (tx) => {
    const x = await lockException(tx, id);
    if (how === "approve" && x.hostRetired) throw new ExceptionError(`${x.hostName} was deleted: there is nothing left to except`);
    const problem = how === "revoke" ? revokeProblem(x, now) : decisionProblem(x, actor.id, now);
    if (problem) throw new ExceptionError(problem, how !== "revoke" && x.requestedById === actor.id ? 403 : 400);
    const data =
      how === "approve"
        ? { approvedById: actor.id, approvedAt: now, decisionNote: note ?? null }
        : how === "reject"
          ? { rejectedById: actor.id, rejectedAt: now, decisionNote: note ?? null }
          : { revokedById: actor.id, revokedAt: now, decisionNote: note ?? null };
    await tx.exception.update({ where: { id }, data });
    // A pending request never counted; approving or revoking one in force changes what does.
    if (how === "approve" || x.approvedAt) update = await updateHostStatusInTx(tx, x.hostId, { actor: actor.email, now });
    const action = { approve: "exception.approved", reject: "exception.rejected", revoke: "exception.revoked" }[how];
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action,
      target: `host:${x.hostName}`,
      details: { exceptionId: id, scope: exceptionScope(x), requestedById: x.requestedById, expiresAt: x.expiresAt.toISOString(), ...(note ? { note } : {}), ...(update ? { status: update.status } : {}) },
    });
  });
  const done = update as StatusUpdate | null;
  if (done?.drift) notifyDrift(done);
  return (await getException(id, now))!;
}

export function approveException(actor: UserActor, id: string, now = new Date()) {
  return decide(actor, id, "approve", undefined, now);
}

export function rejectException(actor: UserActor, id: string, note?: string, now = new Date()) {
  return decide(actor, id, "reject", note, now);
}

export function revokeException(actor: UserActor, id: string, note?: string, now = new Date()) {
  return decide(actor, id, "revoke", note, now);
}

/**
 * Exceptions whose expiry has passed and that the sweep has not handled: each is marked expired,
 * audited "exception.expired", and an approved one's host gets its real status back, which
 * raises host.drift when that status is failing (lib/compliance/update.ts). Idempotent and safe
 * to run from every worker at once (SKIP LOCKED).
 */
export async function sweepExpiredExceptions(now = new Date()): Promise<number> {
  const at = Prisma.sql`CAST(${now.toISOString()} AS timestamptz) AT TIME ZONE 'UTC'`;
  const due = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM "Exception" WHERE "expiredAt" IS NULL AND "revokedAt" IS NULL AND "rejectedAt" IS NULL AND "expiresAt" <= ${at} ORDER BY "expiresAt" LIMIT 1000`;
  let handled = 0;
  for (const { id } of due) {
    const update = await prisma.$transaction(async (tx) => {
      const [x] = await tx.$queryRaw<Array<{ hostId: string; hostName: string; approvedAt: Date | null; endpointPort: number | null; version: string | null; justification: string; expiresAt: Date }>>`
        SELECT x."hostId"::text AS "hostId", h.name AS "hostName", x."approvedAt", x."endpointPort", x.version, x.justification, x."expiresAt"
        FROM "Exception" x JOIN "Host" h ON h.id = x."hostId"
        WHERE x.id = CAST(${id} AS uuid) AND x."expiredAt" IS NULL FOR UPDATE OF x SKIP LOCKED`;
      if (!x) return null;
      await tx.exception.update({ where: { id }, data: { expiredAt: now } });
      const status = x.approvedAt ? await updateHostStatusInTx(tx, x.hostId, { actor: "system", now }) : null;
      await recordAuditInTx(tx, {
        actor: "system",
        action: "exception.expired",
        target: `host:${x.hostName}`,
        details: { exceptionId: id, scope: exceptionScope(x), expiresAt: x.expiresAt.toISOString(), wasApproved: x.approvedAt !== null, ...(status ? { status: status.status } : {}) },
      });
      handled++;
      return status;
    });
    if (update?.drift) notifyDrift(update);
  }
  return handled;
}
