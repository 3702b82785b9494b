// Exceptions (waivers): the request form's schema and the pure rules of the workflow
// (docs/exceptions.md). PCI DSS 2.2.5 asks for a justification for every insecure protocol kept,
// InSpec waivers carry one and an expiry date; an exception here needs both.
import { z } from "zod";
import { protocolLabel, TLS_VERSIONS } from "../tls/types";

/** Longest an exception may run: a waiver is re-justified at least once a year. */
export const MAX_EXCEPTION_DAYS = 365;
const DAY_MS = 86_400_000;

// Form fields left on "any" arrive as "".
const blankAsUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);

export const ExceptionRequestInput = z.object({
  hostId: z.uuid("Choose a host"),
  endpointPort: z.preprocess(blankAsUndefined, z.coerce.number().int().min(1).max(65535).optional()),
  version: z.preprocess(blankAsUndefined, z.enum(TLS_VERSIONS, "Choose TLS 1.0, 1.1, 1.2 or 1.3, or every version").optional()),
  justification: z.string().trim().min(10, "Write a justification (at least 10 characters): why this host may keep the finding").max(2000, "Keep the justification under 2,000 characters"),
  expiresAt: z.coerce.date("Choose an expiry date"),
});
export type ExceptionRequestValue = z.output<typeof ExceptionRequestInput>;

export const ExceptionDecisionInput = z.object({
  id: z.uuid(),
  note: z.preprocess(blankAsUndefined, z.string().trim().max(2000).optional()),
});

/** Why an expiry date is refused, or null when it is fine. */
export function expiryProblem(expiresAt: Date, now: Date): string | null {
  if (Number.isNaN(expiresAt.getTime())) return "Choose an expiry date";
  if (expiresAt.getTime() <= now.getTime()) return "The expiry must be in the future";
  if (expiresAt.getTime() - now.getTime() > MAX_EXCEPTION_DAYS * DAY_MS) return `An exception may run for at most ${MAX_EXCEPTION_DAYS} days; request a new one when it ends`;
  return null;
}

export type ExceptionState = "pending" | "approved" | "rejected" | "revoked" | "expired";

export interface ExceptionRecord {
  requestedById: string;
  approvedAt: Date | null;
  rejectedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date;
}

export function exceptionState(e: ExceptionRecord, now: Date): ExceptionState {
  if (e.revokedAt) return "revoked";
  if (e.rejectedAt) return "rejected";
  if (e.expiresAt.getTime() <= now.getTime()) return "expired";
  return e.approvedAt ? "approved" : "pending";
}

/**
 * Whether `deciderId` may approve or reject the exception now; null when allowed, else the reason
 * for the user. Four eyes: the requester never decides their own request, whatever their role.
 */
export function decisionProblem(e: ExceptionRecord, deciderId: string, now: Date): string | null {
  const state = exceptionState(e, now);
  if (state !== "pending") return `This exception is ${state}: only a pending request can be approved or rejected`;
  if (e.requestedById === deciderId) return "You requested this exception: another admin must approve or reject it";
  return null;
}

/** Whether the exception may be revoked now; null when allowed. */
export function revokeProblem(e: ExceptionRecord, now: Date): string | null {
  const state = exceptionState(e, now);
  if (state !== "pending" && state !== "approved") return `This exception is ${state} already`;
  return null;
}

/** "TLS 1.0 on port 25", "every version on every endpoint": what the exception names. */
export function exceptionScope(e: { endpointPort: number | null; version: string | null }): string {
  const version = e.version ? protocolLabel(e.version) : "every version";
  return `${version} on ${e.endpointPort === null ? "every endpoint" : `port ${e.endpointPort}`}`;
}
