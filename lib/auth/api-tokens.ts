import "server-only";
// API tokens for scripts (docs/api.md "Authentication"). A token is shown once when minted; only a
// SHA-256 of it is stored. It acts with the lesser of its scope and its owner's current role
// (roles.ts tokenRole), and stops working when it is revoked, expires or its owner is disabled.
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import type { UserActor } from "./actor";
import { can, roleAtLeast, SCOPE_ROLE, TOKEN_SCOPES, tokenRole, type Role, type TokenScope } from "./roles";
import { AppError } from "../errors";

export class ApiTokenError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "ApiTokenError";
  }
}

// Tokens look like "tfl_<prefix>_<secret>"; only a SHA-256 of the whole token is stored.
// (A fast hash is fine here: the token has 192 bits of entropy, unlike a password.)
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function newApiToken(): { token: string; prefix: string; tokenHash: string } {
  const prefix = randomBytes(4).toString("hex");
  const token = `tfl_${prefix}_${randomBytes(24).toString("base64url")}`;
  return { token, prefix, tokenHash: hashApiToken(token) };
}

/** "Last used" is written at most this often per token, so a busy script costs no write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface TokenPrincipal {
  tokenId: string;
  prefix: string;
  /** The role the token acts with now: its scope capped by the owner's current role. */
  role: Role;
  owner: { id: string; email: string; name: string | null };
}

const TOKEN_SHAPE = /^tfl_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/;

type TokenRow = { id: string; prefix: string; scopes: string[]; revokedAt: Date | null; expiresAt: Date | null; owner: { id: string; email: string; name: string | null; role: string; disabledAt: Date | null } };

function principalOf(row: TokenRow | null, now: Date): TokenPrincipal | null {
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now) || row.owner.disabledAt) return null;
  const role = tokenRole(row.owner.role as Role, row.scopes);
  if (!role) return null;
  return { tokenId: row.id, prefix: row.prefix, role, owner: { id: row.owner.id, email: row.owner.email, name: row.owner.name } };
}

const ROW_SELECT = { id: true, prefix: true, scopes: true, revokedAt: true, expiresAt: true, lastUsedAt: true, owner: { select: { id: true, email: true, name: true, role: true, disabledAt: true } } } as const;

/** The token's principal; null for malformed, unknown, revoked, expired or scopeless tokens and disabled owners. */
export async function authenticateApiToken(token: string): Promise<TokenPrincipal | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const now = new Date();
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: hashApiToken(token) }, select: ROW_SELECT });
  const principal = principalOf(row, now);
  if (principal && (!row!.lastUsedAt || now.getTime() - row!.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS)) {
    // Conditional, so parallel requests of one token write it once per minute at most (awaited:
    // one extra round trip a minute, and "last used" is exact to the minute when the answer leaves).
    await prisma.apiToken
      .updateMany({ where: { id: row!.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] }, data: { lastUsedAt: now } })
      .catch(() => undefined);
  }
  return principal;
}

/** The token's principal as it is now (for open event streams): null once it may no longer be used. */
export async function apiTokenPrincipal(tokenId: string): Promise<TokenPrincipal | null> {
  return principalOf(await prisma.apiToken.findUnique({ where: { id: tokenId }, select: ROW_SELECT }), new Date());
}

export const EXPIRY_DAYS = [7, 30, 90, 365] as const;

export const MintApiTokenInput = z.object({
  name: z.string().trim().min(1, "Name the token after what uses it").max(100).regex(/^[^\p{Cc}]*$/u, "Name: no control characters"),
  scope: z.enum(TOKEN_SCOPES, { message: "Scope is read, operate or admin" }),
  // Days until it expires; "never" keeps it until it is revoked.
  expiresInDays: z.union([z.literal("never"), z.coerce.number().int().min(1, "At least 1 day").max(366, "At most 366 days")]),
});
export const ApiTokenIdInput = z.object({ tokenId: z.uuid() });

export async function mintApiToken(actor: UserActor & { role: Role }, input: z.output<typeof MintApiTokenInput>): Promise<{ id: string; token: string; prefix: string }> {
  const scope: TokenScope = input.scope;
  if (!roleAtLeast(actor.role, SCOPE_ROLE[scope])) {
    throw new ApiTokenError(`Your role (${actor.role}) cannot give a token the ${scope} scope: a token never has more than its owner.`);
  }
  const { token, prefix, tokenHash } = newApiToken();
  const expiresAt = input.expiresInDays === "never" ? null : new Date(Date.now() + input.expiresInDays * 86_400_000);
  const row = await prisma.$transaction(async (tx) => {
    const created = await tx.apiToken.create({ data: { name: input.name, tokenHash, prefix, scopes: [scope], ownerId: actor.id, expiresAt } });
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "api_token.mint",
      target: `api-token:${prefix}`,
      details: { name: input.name, scope, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return created;
  });
  return { id: row.id, token, prefix };
}

/** Revokes a token: its owner may, and an admin (tokens.manage) may revoke anyone's. */
export async function revokeApiToken(actor: UserActor & { role: Role }, input: z.output<typeof ApiTokenIdInput>): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const row = await tx.apiToken.findUnique({ where: { id: input.tokenId }, include: { owner: { select: { email: true } } } });
    // Someone else's token is "not found" to a non-admin: ids of other users' tokens are not confirmed.
    if (!row || (row.ownerId !== actor.id && !can(actor.role, "tokens.manage"))) throw new ApiTokenError("No such API token");
    if (row.revokedAt) return;
    await tx.apiToken.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "api_token.revoke",
      target: `api-token:${row.prefix}`,
      details: { name: row.name, owner: row.owner.email },
    });
  });
}

export interface ApiTokenRow {
  id: string;
  name: string;
  prefix: string;
  scope: string;
  ownerEmail: string;
  /** The role it acts with today (its scope capped by the owner's role); null when it can no longer be used. */
  actsAs: Role | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Admins see every token, everyone else their own; newest first. */
export async function listApiTokens(actor: UserActor & { role: Role }): Promise<ApiTokenRow[]> {
  const rows = await prisma.apiToken.findMany({
    where: can(actor.role, "tokens.manage") ? {} : { ownerId: actor.id },
    orderBy: { createdAt: "desc" },
    take: 500,
    include: { owner: { select: { email: true, role: true, disabledAt: true } } },
  });
  const now = new Date();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scope: r.scopes.join(", ") || "none",
    ownerEmail: r.owner.email,
    actsAs: r.revokedAt || (r.expiresAt && r.expiresAt <= now) || r.owner.disabledAt ? null : tokenRole(r.owner.role as Role, r.scopes),
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
  }));
}
