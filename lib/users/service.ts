import "server-only";
import { z } from "zod";
import { prisma } from "../db";
import { recordAudit, recordAuditInTx } from "../audit/log";
import { dummyPasswordHash, generatePassword, hashPassword, PasswordSchema, verifyPassword } from "../auth/passwords";
import { countSignInAttempt, signInNotAttempted, signInSucceeded } from "../auth/sign-in-limits";
import { WorkLimiterBusy } from "../auth/work-limiter";
import { ROLES, type Role } from "../auth/roles";
import { AppError } from "../errors";
import type { Tx } from "../db";
import type { UserActor } from "../auth/actor";

export class UserError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

const Email = z.string().trim().toLowerCase().email("Enter a valid e-mail address").max(254);

export const CreateUserInput = z.object({
  email: Email,
  name: z.string().trim().max(100).optional().transform((v) => v || undefined),
  role: z.enum(ROLES),
  password: PasswordSchema,
});
export const ChangeRoleInput = z.object({ userId: z.string().uuid(), role: z.enum(ROLES) });
export const UserIdInput = z.object({ userId: z.string().uuid() });

export const ChangeOwnPasswordInput = z
  .object({ currentPassword: z.string().min(1, "Enter your current password").max(200), newPassword: PasswordSchema, confirmPassword: z.string().max(200) })
  .refine((v) => v.newPassword === v.confirmPassword, { message: "The two new passwords differ", path: ["confirmPassword"] })
  .refine((v) => v.newPassword !== v.currentPassword, { message: "The new password must differ from the current one", path: ["newPassword"] });
export const ResetPasswordInput = z.object({ userId: z.string().uuid(), newPassword: PasswordSchema });

/** How long a session lasts at most, whatever its activity (the JWT says the same). */
export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string | null; role: Role; tokenVersion: number }; sessionId: string }
  | { ok: false; reason: "invalid" | "throttled" | "disabled" | "busy"; retryAfterSeconds?: number };

// Sign-ins refused because every password check was taken are audited at most once per
// BUSY_AUDIT_MS per process, with how many were refused since: during a flood the audit chain,
// written under one lock, must not become the next queue.
const BUSY_AUDIT_MS = 10_000;
const busy = { lastAuditAt: 0, refusedSince: 0 };
async function auditBusyRefusal(email: string, address: string) {
  busy.refusedSince++;
  if (Date.now() - busy.lastAuditAt < BUSY_AUDIT_MS) return;
  const refused = busy.refusedSince;
  Object.assign(busy, { lastAuditAt: Date.now(), refusedSince: 0 });
  await recordAudit({ actor: email || "(empty)", action: "auth.login_busy", details: { address, refusedSinceLastEvent: refused } });
}

/**
 * Checks a sign-in: counts it first (throttle.ts, sign-in-limits.ts), then runs bcrypt through
 * the limited password work (passwords.ts), then opens a server-side session on success.
 * Every outcome is an audit event.
 */
export async function verifySignIn(rawEmail: string, password: string, address: string): Promise<SignInResult> {
  const email = rawEmail.trim().toLowerCase();
  const throttle = await countSignInAttempt(email, address);
  if (throttle.locked) {
    if (throttle.audit) {
      await recordAudit({ actor: email || "(empty)", action: "auth.login_throttled", details: { address, refusedInWindow: throttle.refusedInWindow, retryAfterSeconds: throttle.retryAfterSeconds } });
    }
    return { ok: false, reason: "throttled", retryAfterSeconds: throttle.retryAfterSeconds };
  }
  const user = email ? await prisma.user.findUnique({ where: { email } }) : null;
  let passwordOk: boolean;
  try {
    passwordOk = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  } catch (err) {
    if (!(err instanceof WorkLimiterBusy)) throw err;
    await signInNotAttempted(email, address);
    await auditBusyRefusal(email, address);
    return { ok: false, reason: "busy", retryAfterSeconds: 5 };
  }
  const disabled = Boolean(user?.disabledAt);
  const ok = Boolean(user) && passwordOk && !disabled;
  if (ok) await signInSucceeded(email, address);
  const sessionId = await prisma.$transaction(async (tx) => {
    let id: string | null = null;
    if (ok && user) {
      await tx.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
      const session = await tx.userSession.create({ data: { userId: user.id, address, expiresAt: new Date(Date.now() + SESSION_MAX_AGE_SECONDS * 1000) } });
      id = session.id;
    }
    await recordAuditInTx(tx, {
      actor: email || "(empty)",
      actorId: user?.id ?? null,
      action: ok ? "auth.login" : "auth.login_failed",
      details: { address, ...(ok ? {} : { reason: disabled && passwordOk ? "disabled" : "invalid credentials" }) },
    });
    return id;
  });
  if (!ok || !user || !sessionId) return { ok: false, reason: disabled && passwordOk ? "disabled" : "invalid" };
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role as Role, tokenVersion: user.tokenVersion }, sessionId };
}

/** The session a JWT names, with its user, while it is still live; null once ended, expired or gone. */
export async function liveSession(sessionId: string) {
  const session = await prisma.userSession.findUnique({
    where: { id: sessionId },
    select: { id: true, endedAt: true, expiresAt: true, user: { select: { id: true, email: true, name: true, role: true, tokenVersion: true, disabledAt: true } } },
  });
  if (!session || session.endedAt || session.expiresAt <= new Date()) return null;
  return session;
}

/** Sign-out: the session's row is ended, so its cookie, if copied, is refused from now on. */
export async function endSession(sessionId: string, reason = "sign-out"): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const session = await tx.userSession.findUnique({ where: { id: sessionId }, include: { user: { select: { email: true } } } });
    if (!session || session.endedAt) return;
    await tx.userSession.update({ where: { id: sessionId }, data: { endedAt: new Date(), endReason: reason } });
    await recordAuditInTx(tx, { actor: session.user.email, actorId: session.userId, action: "auth.logout", target: `user:${session.user.email}`, details: { session: sessionId.slice(0, 8) } });
  });
}


async function endSessionsInTx(tx: Tx, userId: string, reason: string, keepSessionId?: string): Promise<number> {
  const { count } = await tx.userSession.updateMany({
    where: { userId, endedAt: null, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) },
    data: { endedAt: new Date(), endReason: reason },
  });
  return count;
}

/**
 * The signed-in user changes their own password. The current password is checked like a sign-in
 * (same counters, same limited bcrypt), so a borrowed session cannot guess it without limit.
 * Every other session of the user ends; the one making the change stays.
 */
export async function changeOwnPassword(actor: UserActor & { sessionId?: string }, input: z.infer<typeof ChangeOwnPasswordInput>, address: string): Promise<{ endedSessions: number }> {
  const throttle = await countSignInAttempt(actor.email, address);
  if (throttle.locked) {
    await recordAudit({ actor: actor.email, actorId: actor.id, action: "user.password_change_throttled", target: `user:${actor.email}`, details: { address } });
    throw new UserError(`Too many wrong passwords for this account: try again in ${Math.ceil(throttle.retryAfterSeconds / 60)} minutes`);
  }
  const user = await prisma.user.findUnique({ where: { id: actor.id } });
  if (!user) throw new UserError("Your account no longer exists");
  let ok: boolean;
  try {
    ok = await verifyPassword(input.currentPassword, user.passwordHash);
  } catch (err) {
    if (!(err instanceof WorkLimiterBusy)) throw err;
    await signInNotAttempted(actor.email, address);
    throw new UserError("The server is busy checking other passwords: try again in a few seconds");
  }
  if (!ok) {
    await recordAudit({ actor: actor.email, actorId: actor.id, action: "user.password_change_failed", target: `user:${actor.email}`, details: { address, reason: "wrong current password" } });
    throw new UserError("Your current password is not correct");
  }
  await signInSucceeded(actor.email, address);
  const passwordHash = await hashPassword(input.newPassword);
  return prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    // Without a session id to keep (not a browser session), every session ends.
    const endedSessions = await endSessionsInTx(tx, user.id, "password changed", actor.sessionId);
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.password_change", target: `user:${user.email}`, details: { endedSessions } });
    return { endedSessions };
  });
}

/** An admin sets a new password for another user; every session of that user ends. */
export async function resetPassword(actor: UserActor, input: z.infer<typeof ResetPasswordInput>): Promise<{ endedSessions: number }> {
  if (input.userId === actor.id) throw new UserError("Change your own password under Settings > Your account (it asks for the current one)");
  const target = await prisma.user.findUnique({ where: { id: input.userId } });
  if (!target) throw new UserError("That user no longer exists");
  const passwordHash = await hashPassword(input.newPassword);
  return prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: target.id }, data: { passwordHash, tokenVersion: { increment: 1 } } });
    const endedSessions = await endSessionsInTx(tx, target.id, "password reset by an admin");
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.password_reset", target: `user:${target.email}`, details: { endedSessions } });
    return { endedSessions };
  });
}

/** The live state a session must still match: a changed token version or a disabled user ends it. */
export async function sessionUser(userId: string) {
  return prisma.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, name: true, role: true, tokenVersion: true, disabledAt: true },
  });
}

export async function listUsers() {
  return prisma.user.findMany({
    orderBy: { email: "asc" },
    select: { id: true, email: true, name: true, role: true, disabledAt: true, lastLoginAt: true, createdAt: true },
  });
}

export async function createUser(actor: UserActor, input: z.infer<typeof CreateUserInput>) {
  const existing = await prisma.user.findUnique({ where: { email: input.email } });
  if (existing) throw new UserError(`A user with e-mail ${input.email} already exists`);
  const passwordHash = await hashPassword(input.password);
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.create({ data: { email: input.email, name: input.name, role: input.role, passwordHash } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.create", target: `user:${user.email}`, details: { role: input.role } });
    return { id: user.id, email: user.email };
  });
}

async function otherActiveAdmins(tx: Tx, excludeId: string) {
  return tx.user.count({ where: { role: "admin", disabledAt: null, id: { not: excludeId } } });
}

export async function changeRole(actor: UserActor, input: z.infer<typeof ChangeRoleInput>) {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new UserError("That user no longer exists");
    if (user.role === "admin" && input.role !== "admin" && (await otherActiveAdmins(tx, user.id)) === 0) {
      throw new UserError("This is the last active admin: make another admin first");
    }
    // Bumping the token version ends the user's sessions, so the new role applies at once.
    await tx.user.update({ where: { id: user.id }, data: { role: input.role, tokenVersion: { increment: 1 } } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.role_change", target: `user:${user.email}`, details: { from: user.role, to: input.role } });
  });
}

export async function setUserDisabled(actor: UserActor, input: z.infer<typeof UserIdInput>, disabled: boolean) {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new UserError("That user no longer exists");
    if (disabled && user.id === actor.id) throw new UserError("You cannot disable your own account");
    if (disabled && user.role === "admin" && (await otherActiveAdmins(tx, user.id)) === 0) {
      throw new UserError("This is the last active admin: make another admin first");
    }
    await tx.user.update({
      where: { id: user.id },
      data: { disabledAt: disabled ? new Date() : null, tokenVersion: { increment: 1 } },
    });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: disabled ? "user.disable" : "user.enable", target: `user:${user.email}` });
  });
}

export async function forceSignOut(actor: UserActor, input: z.infer<typeof UserIdInput>) {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new UserError("That user no longer exists");
    await tx.user.update({ where: { id: user.id }, data: { tokenVersion: { increment: 1 } } });
    const endedSessions = await endSessionsInTx(tx, user.id, "forced sign-out");
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.force_sign_out", target: `user:${user.email}`, details: { endedSessions } });
  });
}

/**
 * First start: make sure an admin exists. Uses TLSFLEET_ADMIN_EMAIL/PASSWORD when given;
 * otherwise creates admin@localhost with a generated password that is returned once (the caller
 * prints it) and never stored in clear.
 */
export async function ensureInitialAdmin(opts: { email?: string; password?: string }): Promise<{ created: false } | { created: true; email: string; generatedPassword?: string }> {
  const admins = await prisma.user.count({ where: { role: "admin" } });
  if (admins > 0) return { created: false };
  const email = Email.parse(opts.email ?? "admin@localhost.localdomain");
  let generatedPassword: string | undefined;
  let password = opts.password;
  if (!password) {
    generatedPassword = generatePassword();
    password = generatedPassword;
  } else {
    const checked = PasswordSchema.safeParse(password);
    if (!checked.success) throw new UserError(`TLSFLEET_ADMIN_PASSWORD: ${checked.error.issues[0].message}`);
  }
  const passwordHash = await hashPassword(password);
  await prisma.$transaction(async (tx) => {
    await tx.user.upsert({ where: { email }, create: { email, role: "admin", passwordHash, name: "Administrator" }, update: { role: "admin", passwordHash, disabledAt: null } });
    await recordAuditInTx(tx, { actor: "system", action: "user.create_initial_admin", target: `user:${email}` });
  });
  return { created: true, email, generatedPassword };
}
