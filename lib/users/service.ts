import "server-only";
import { z } from "zod";
import { prisma } from "../db";
import { recordAudit, recordAuditInTx } from "../audit/log";
import { dummyPasswordHash, generatePassword, hashPassword, PasswordSchema, verifyPassword } from "../auth/passwords";
import { throttleState, WINDOW_MS } from "../auth/throttle";
import { ROLES, type Role } from "../auth/roles";

export interface Actor {
  id: string;
  email: string;
  role: Role;
}

export class UserError extends Error {
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

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string | null; role: Role; tokenVersion: number } }
  | { ok: false; reason: "invalid" | "throttled" | "disabled"; retryAfterSeconds?: number };

/** Whether this account+address is currently locked out, without recording anything. */
export async function signInThrottle(email: string, address: string) {
  const since = new Date(Date.now() - WINDOW_MS);
  const attempts = await prisma.loginAttempt.findMany({
    where: { email: email.trim().toLowerCase(), address, at: { gt: since } },
    select: { succeeded: true, at: true },
  });
  return throttleState(attempts, new Date());
}

export async function verifySignIn(rawEmail: string, password: string, address: string): Promise<SignInResult> {
  const email = rawEmail.trim().toLowerCase();
  const throttle = await signInThrottle(email, address);
  if (throttle.locked) {
    await recordAudit({ actor: email || "(empty)", action: "auth.login_throttled", details: { address } });
    return { ok: false, reason: "throttled", retryAfterSeconds: throttle.retryAfterSeconds };
  }
  const user = email ? await prisma.user.findUnique({ where: { email } }) : null;
  const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  const disabled = Boolean(user?.disabledAt);
  const ok = Boolean(user) && passwordOk && !disabled;
  await prisma.$transaction(async (tx) => {
    await tx.loginAttempt.create({ data: { email, address, succeeded: ok } });
    if (ok && user) await tx.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    await recordAuditInTx(tx, {
      actor: email || "(empty)",
      actorId: user?.id ?? null,
      action: ok ? "auth.login" : "auth.login_failed",
      details: { address, ...(ok ? {} : { reason: disabled && passwordOk ? "disabled" : "invalid credentials" }) },
    });
  });
  if (!ok || !user) return { ok: false, reason: disabled && passwordOk ? "disabled" : "invalid" };
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role as Role, tokenVersion: user.tokenVersion } };
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

export async function createUser(actor: Actor, input: z.infer<typeof CreateUserInput>) {
  const existing = await prisma.user.findUnique({ where: { email: input.email } });
  if (existing) throw new UserError(`A user with e-mail ${input.email} already exists`);
  const passwordHash = await hashPassword(input.password);
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.create({ data: { email: input.email, name: input.name, role: input.role, passwordHash } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.create", target: `user:${user.email}`, details: { role: input.role } });
    return { id: user.id, email: user.email };
  });
}

async function otherActiveAdmins(tx: Parameters<Parameters<typeof prisma.$transaction>[0]>[0], excludeId: string) {
  return tx.user.count({ where: { role: "admin", disabledAt: null, id: { not: excludeId } } });
}

export async function changeRole(actor: Actor, input: z.infer<typeof ChangeRoleInput>) {
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

export async function setUserDisabled(actor: Actor, input: z.infer<typeof UserIdInput>, disabled: boolean) {
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

export async function forceSignOut(actor: Actor, input: z.infer<typeof UserIdInput>) {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new UserError("That user no longer exists");
    await tx.user.update({ where: { id: user.id }, data: { tokenVersion: { increment: 1 } } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "user.force_sign_out", target: `user:${user.email}` });
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
