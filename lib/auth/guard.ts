import "server-only";
// The one authorization layer. Server actions go through authorizedAction(), route handlers
// through authorizedRoute(), pages through requirePageUser(). Each looks the action up in
// ACTIONS (roles.ts), so the role table lives in one place and the authz test can walk it.
import { randomUUID } from "node:crypto";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { NextResponse } from "next/server";
import { z } from "zod";
import { logger } from "../log";
import { recordAudit } from "../audit/log";
import { can, ACTIONS, type Action } from "./roles";
import { getCurrentUser, type SessionUser } from "./session";
import { userForApiToken } from "./api-tokens";
import { UserError } from "../users/service";

export type ActionResult<T = undefined> = { ok: true; data?: T; message?: string } | { ok: false; error: string; fieldErrors?: Record<string, string[]>; status: 400 | 401 | 403 | 500 };

/** Errors whose message is written for the user; everything else is logged and shown with an id. */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserFacingError";
  }
}

function isUserFacing(err: unknown): err is Error {
  return err instanceof UserFacingError || err instanceof UserError || (err instanceof Error && (err as { userFacing?: boolean }).userFacing === true);
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
    if (!parsed.success) {
      const fieldErrors: Record<string, string[]> = {};
      for (const issue of parsed.error.issues) (fieldErrors[issue.path.join(".") || "_"] ??= []).push(issue.message);
      return { ok: false, error: parsed.error.issues[0]?.message ?? "Invalid input", fieldErrors, status: 400 };
    }
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

type RouteContext = { params: Promise<Record<string, string | string[]>> };

/**
 * Wraps a route handler: API-token (Authorization: Bearer) or session-cookie auth, role check,
 * and, for cookie-authenticated mutations, a same-origin check against CSRF.
 */
export function authorizedRoute(action: Action, handler: (req: Request, user: SessionUser, ctx: RouteContext) => Promise<Response>) {
  const guarded = async (req: Request, ctx: RouteContext): Promise<Response> => {
    let user: SessionUser | null = null;
    const auth = req.headers.get("authorization");
    if (auth?.toLowerCase().startsWith("bearer ")) {
      const owner = await userForApiToken(auth.slice(7).trim());
      if (owner) user = { id: owner.id, email: owner.email, name: owner.name, role: owner.role, via: "api-token" };
    } else {
      user = await getCurrentUser();
      if (user && req.method !== "GET" && req.method !== "HEAD" && !sameOrigin(req)) {
        return NextResponse.json({ error: "Cross-origin request refused" }, { status: 403 });
      }
    }
    if (!user) return NextResponse.json({ error: "Sign in or send an API token" }, { status: 401 });
    if (!can(user.role, action)) {
      await auditDenied(user, action, `route:${new URL(req.url).pathname}`);
      return NextResponse.json({ error: `Role ${user.role} may not do this: it needs ${ACTIONS[action]}` }, { status: 403 });
    }
    try {
      return await handler(req, user, ctx);
    } catch (err) {
      if (isUserFacing(err)) return NextResponse.json({ error: err.message }, { status: 400 });
      const id = randomUUID().slice(0, 8);
      logger.error({ err, action, errorId: id }, "route handler failed");
      return NextResponse.json({ error: `Internal error (id ${id})` }, { status: 500 });
    }
  };
  // The action is visible on the handler so the authorization test can check every route.
  return Object.assign(guarded, { action });
}
