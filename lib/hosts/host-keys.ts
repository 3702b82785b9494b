import "server-only";
// The pinned identity of a host's remote transport (SSH host-key fingerprint or WinRM certificate
// thumbprint). Audits record what a host presents as pending (agents/tasks/audit.ts); only an admin
// turns a pending key into the pinned one, or sets the host to trust on first use (then the first
// key presented is pinned by the worker), and every change is an audit event. See
// docs/security.md "Host identity (trust on first use)".
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import { AppError } from "../errors";
import type { Actor } from "../auth/actor";

export class HostKeyError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "HostKeyError";
  }
}

export const ConfirmHostKeyInput = z.object({
  hostId: z.uuid(),
  /** The key the admin was shown: a key that changed meanwhile is not confirmed blindly. */
  key: z.string().trim().min(1).max(200).optional(),
});
export const HostIdInput = z.object({ hostId: z.uuid() });

/** Pins the pending key (pinnedKeyPending -> pinnedKey, pinnedAt now). */
export async function confirmHostKey(actor: Actor, input: z.output<typeof ConfirmHostKeyInput>): Promise<{ pinnedKey: string }> {
  return prisma.$transaction(async (tx) => {
    const [host] = await tx.$queryRaw<Array<{ name: string; pinnedKey: string | null; pinnedKeyPending: string | null }>>`
      SELECT name, "pinnedKey", "pinnedKeyPending" FROM "Host" WHERE id = ${input.hostId}::uuid FOR UPDATE`;
    if (!host) throw new HostKeyError("That host no longer exists");
    if (!host.pinnedKeyPending) throw new HostKeyError(`${host.name} has no key waiting for confirmation: run a config audit to record the key it presents`);
    if (input.key && input.key !== host.pinnedKeyPending) throw new HostKeyError(`The pending key of ${host.name} changed while you were looking at it; reload the page and check the new one`);
    await tx.host.update({ where: { id: input.hostId }, data: { pinnedKey: host.pinnedKeyPending, pinnedKeyPending: null, pinnedAt: new Date() } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "host.key_confirmed", target: `host:${host.name}`, details: { key: host.pinnedKeyPending, previous: host.pinnedKey } });
    return { pinnedKey: host.pinnedKeyPending };
  });
}

/** Drops the pinned and the pending key: the next contact is a first contact again. */
export async function forgetHostKey(actor: Actor, input: z.output<typeof HostIdInput>): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const [host] = await tx.$queryRaw<Array<{ name: string; pinnedKey: string | null; pinnedKeyPending: string | null }>>`
      SELECT name, "pinnedKey", "pinnedKeyPending" FROM "Host" WHERE id = ${input.hostId}::uuid FOR UPDATE`;
    if (!host) throw new HostKeyError("That host no longer exists");
    if (!host.pinnedKey && !host.pinnedKeyPending) throw new HostKeyError(`${host.name} has no pinned or pending key to forget`);
    await tx.host.update({ where: { id: input.hostId }, data: { pinnedKey: null, pinnedKeyPending: null, pinnedAt: null } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "host.key_forgotten", target: `host:${host.name}`, details: { pinnedKey: host.pinnedKey, pendingKey: host.pinnedKeyPending } });
  });
}

// ---- first contact (worker side) -------------------------------------------------------------

/**
 * Pins `key` as the host's key on first use, only if the host is (still) set to trust on first
 * use and nothing is pinned yet; false when another contact or an admin got there first (the
 * caller then refuses: the key is no longer the one to trust).
 */
export async function pinKeyOnFirstUse(hostId: string, key: string): Promise<boolean> {
  const n = await prisma.$executeRaw`
    UPDATE "Host" SET "pinnedKey" = ${key}, "pinnedKeyPending" = NULL, "pinnedAt" = now(), "updatedAt" = now()
    WHERE id = ${hostId}::uuid AND "trustOnFirstUse" AND "pinnedKey" IS NULL AND ("pinnedKeyPending" IS NULL OR "pinnedKeyPending" = ${key})`;
  return n === 1;
}

/** Records what a host presented for an admin to confirm, unless a pending key is already
 *  recorded: a second, different key never replaces the first one silently. */
export async function recordPendingKey(hostId: string, key: string): Promise<boolean> {
  const n = await prisma.$executeRaw`UPDATE "Host" SET "pinnedKeyPending" = ${key}, "updatedAt" = now() WHERE id = ${hostId}::uuid AND "pinnedKeyPending" IS NULL`;
  return n === 1;
}

// ---- admin decisions about a host's identity -------------------------------------------------

export const HostTrustInput = z.object({
  hostId: z.uuid(),
  setting: z.enum(["trustOnFirstUse", "allowWinrmHttp", "legacyTls"]),
  enabled: z.preprocess((v) => v === true || v === "true" || v === "on", z.boolean()),
});

const TRUST_ACTIONS = { trustOnFirstUse: "host.trust_on_first_use", allowWinrmHttp: "host.allow_winrm_http", legacyTls: "host.legacy_tls" } as const;

/** Sets one of the host's identity flags (trust on first use, WinRM over HTTP, legacy TLS). */
export async function setHostTrust(actor: Actor, input: z.output<typeof HostTrustInput>): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const host = await tx.host.findUnique({ where: { id: input.hostId }, select: { name: true, trustOnFirstUse: true, allowWinrmHttp: true, legacyTls: true } });
    if (!host) throw new HostKeyError("That host no longer exists");
    if (host[input.setting] === input.enabled) return;
    await tx.host.update({ where: { id: input.hostId }, data: { [input.setting]: input.enabled } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: TRUST_ACTIONS[input.setting], target: `host:${host.name}`, details: { enabled: input.enabled } });
  });
}
