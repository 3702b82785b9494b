// Who a domain call acts for: a signed-in user, an API token's owner (lib/auth/session.ts
// SessionUser is one), or the system (the rescan schedule, `tlsfleet start --demo`). Every service
// takes this one type; its audit events record `email` as the actor and `id` as the actorId.
import type { Role } from "./roles";

export interface Actor {
  /** The user's id; null for the system, which has no user row. */
  id: string | null;
  email: string;
  /** The role it acts with, where a decision depends on it (credential custody, approvals, token
   *  scopes); absent counts as no admin. */
  role?: Role;
}

/** An actor known to be a user: what it writes or decides names it by id (a requester, an owner). */
export type UserActor = Actor & { id: string };

export const SYSTEM_ACTOR: Actor = { id: null, email: "system" };
