import "server-only";
// The one authorization layer. Server actions go through authorizedAction(), route handlers
// through route() (lib/http/route.ts, which calls authorizeRequest()), pages through requirePageUser(). Each looks the action up in
// ACTIONS (roles.ts), so the role table lives in one place and the authz test can walk it.
import { randomUUID } from "node:crypto";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { logger } from "../log";
import { recordAudit } from "../audit/log";
import { fieldErrors, PROBLEM_TYPES } from "../http/problem";
import { can, ACTIONS, type Action, type Role } from "./roles";
import { getCurrentUser, type SessionUser } from "./session";
import { apiTokenPrincipal, authenticateApiToken } from "./api-tokens";
import { liveSession, sessionUser } from "../users/service";
import { AppError, isAppError } from "../errors";

export type ActionResult<T = undefined> = { ok: true; data?: T; message?: string } | { ok: false; error: string; fieldErrors?: Record<string, string[]>; status: 400 | 401 | 403 | 500 };

/** A refusal written for the user from a server action or route (lib/errors.ts AppError). */
export class UserFacingError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "UserFacingError";
  }
}

/** Errors whose message is written for the user (AppError); everything else is logged and shown with an id. */
export function isUserFacing(err: unknown): err is Error {
  return isAppError(err);
}

async function auditDenied(user: SessionUser | null, action: Action, where: string) {
  await recordAudit({ actor: user?.email ?? "anonymous", actorId: user?.id ?? null, action: "authz.denied", target: where, details: { action, role: user?.role ?? null } }).catch((err) =>
    logger.error({ err }, "could not record authz denial"),
  );
}

export interface GuardedAction<I, T> {
  (input: I): Promise<ActionResult<T>>;
  readonly action: Action;
}

/**
 * Wraps a server action: resolves the user on the server, checks the role for `action`,
 * validates input with `schema`, runs `fn`, and turns failures into ActionResult.
 * `fn` records its own audit event inside its transaction.
 */
export function authorizedAction<S extends z.ZodType, T = undefined>(
  action: Action,
  schema: S,
  fn: (input: z.output<S>, user: SessionUser) => Promise<T | void>,
  opts: { revalidate?: string[]; success?: string } = {},
): GuardedAction<z.input<S>, T> {
  const guarded = async (raw: z.input<S>): Promise<ActionResult<T>> => {
    const user = await getCurrentUser();
    if (!user) return { ok: false, error: "Your session has ended: sign in again.", status: 401 };
    if (!can(user.role, action)) {
      await auditDenied(user, action, `action:${action}`);
      return { ok: false, error: `Your role (${user.role}) may not do this: it needs ${ACTIONS[action]}.`, status: 403 };
    }
    const parsed = schema.safeParse(raw instanceof FormData ? Object.fromEntries(raw) : raw);
    if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? "Invalid input", fieldErrors: fieldErrors(parsed.error), status: 400 };
    try {
      const data = (await fn(parsed.data, user)) ?? undefined;
      for (const path of opts.revalidate ?? []) {
        try {
          revalidatePath(path);
        } catch {
          // Outside a Next request (tests, CLI) there is no cache to revalidate.
        }
      }
      return { ok: true, data: data as T | undefined, message: opts.success };
    } catch (err) {
      if (isUserFacing(err)) return { ok: false, error: err.message, status: 400 };
      const id = randomUUID().slice(0, 8);
      logger.error({ err, action, errorId: id, user: user.email }, "server action failed");
      return { ok: false, error: `Something went wrong (error id ${id}). The details are in the server log.`, status: 500 };
    }
  };
  return Object.assign(guarded, { action });
}

/** For pages and layouts: the signed-in user allowed to `action`, or a redirect. */
export async function requirePageUser(action: Action = "read"): Promise<SessionUser> {
  const user = await getCurrentUser();
  if (!user) redirect("/login");
  if (!can(user.role, action)) {
    const h = await headers();
    await auditDenied(user, action, `page:${h.get("x-pathname") ?? "?"}`);
    redirect(`/forbidden?need=${ACTIONS[action]}`);
  }
  return user;
}

function sameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (!origin) return req.headers.get("sec-fetch-site") !== "cross-site";
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Who a route request acts for, and how to ask again while a long response (an event stream) is open. */
export interface RoutePrincipal {
  /** `role` is the role this request acts with: for an API token, its scope capped by its owner's role. */
  user: SessionUser;
  /** The credential as it is now: false once the session ended, the token was revoked or expired, the user was disabled, or the role no longer allows the action. */
  stillAllowed(): Promise<boolean>;
}

export type RouteAuthorization = { ok: true; principal: RoutePrincipal } | { ok: false; status: 401 | 403; type: string; detail: string };

/**
 * The authorization of every route handler (lib/http/route.ts calls it): an API token
 * (Authorization: Bearer) or the session cookie, the role check for `action`, and, for
 * cookie-authenticated mutations, a same-origin check against CSRF.
 */
export async function authorizeRequest(req: Request, action: Action): Promise<RouteAuthorization> {
  let principal: RoutePrincipal | null = null;
  const auth = req.headers.get("authorization");
  if (auth?.toLowerCase().startsWith("bearer ")) {
    const token = await authenticateApiToken(auth.slice(7).trim());
    if (token) {
      principal = {
        user: { id: token.owner.id, email: token.owner.email, name: token.owner.name, role: token.role, via: "api-token", tokenId: token.tokenId },
        stillAllowed: async () => can((await apiTokenPrincipal(token.tokenId))?.role, action),
      };
    }
  } else {
    const user = await getCurrentUser();
    if (user && req.method !== "GET" && req.method !== "HEAD" && !sameOrigin(req)) {
      return { ok: false, status: 403, type: PROBLEM_TYPES.crossOrigin, detail: "Cross-origin request refused" };
    }
    if (user) principal = { user, stillAllowed: () => sessionStillAllows(user, action) };
  }
  if (!principal) return { ok: false, status: 401, type: PROBLEM_TYPES.unauthenticated, detail: "Sign in or send an API token" };
  const { user } = principal;
  if (!can(user.role, action)) {
    await auditDenied(user, action, `route:${new URL(req.url).pathname}`);
    const who = user.via === "api-token" ? `This API token acts as ${user.role} (its scope, never more than its owner's role)` : `Role ${user.role}`;
    return { ok: false, status: 403, type: PROBLEM_TYPES.forbidden, detail: `${who} may not do this: it needs ${ACTIONS[action]}` };
  }
  return { ok: true, principal };
}

async function sessionStillAllows(user: SessionUser, action: Action): Promise<boolean> {
  // The same test the session cookie passes on every request (options.ts jwt callback): the row
  // is live and the user enabled. A session without a row id is only made by tests.
  const live = user.sessionId ? (await liveSession(user.sessionId))?.user : await sessionUser(user.id);
  return !!live && live.id === user.id && !live.disabledAt && can(live.role as Role, action);
}
