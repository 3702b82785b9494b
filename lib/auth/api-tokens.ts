import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { prisma } from "../db";
import type { Role } from "./roles";

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

/** The token's owner with the owner's current role; null for unknown, revoked, expired tokens or disabled owners. */
export async function userForApiToken(token: string): Promise<{ id: string; email: string; name: string | null; role: Role; prefix: string } | null> {
  if (!/^tfl_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/.test(token)) return null;
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: hashApiToken(token) }, include: { owner: true } });
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt < new Date()) || row.owner.disabledAt) return null;
  void prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  return { id: row.owner.id, email: row.owner.email, name: row.owner.name, role: row.owner.role as Role, prefix: row.prefix };
}
