import "server-only";
// Credentials for SSH and WinRM. The secret is sealed to the credential public key before it
// reaches the database (lib/crypto/sealed-box.ts), bound to the credential's id, kind and username
// (associated data) so a ciphertext cannot be moved to another row or given another username, and
// only `secretForWorker()` opens it, in a worker: the web process holds no key that could. Nothing
// here returns secret material to a caller that renders or exports.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { prisma } from "../db";
import { recordAudit, recordAuditInTx } from "../audit/log";
import { decryptSecret } from "../crypto/secrets";
import { openSealedSecret, sealedKeyId, sealSecret, type SealingKey } from "../crypto/sealed-box";
import { legacyKeys, openingKeys, sealingKey } from "./keys";
import { AppError } from "../errors";
import type { Actor } from "../auth/actor";

export const CREDENTIAL_KINDS = ["ssh_key", "ssh_password", "winrm_ntlm", "winrm_basic"] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export class CredentialError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

const PRIVATE_KEY = /-----BEGIN (OPENSSH|RSA|EC|DSA)? ?PRIVATE KEY-----[\s\S]+-----END (OPENSSH|RSA|EC|DSA)? ?PRIVATE KEY-----/;

export const CredentialInput = z
  .object({
    name: z.string().trim().min(1, "Name is required").max(100).regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "Name: letters, digits, space, . _ -"),
    kind: z.enum(CREDENTIAL_KINDS),
    username: z.string().trim().min(1, "Username is required").max(256).regex(/^[^\s"'`;&|<>$\\]+(\\[^\s"'`;&|<>$\\]+)?$/, "Username: no spaces or shell characters (DOMAIN\\user is fine)"),
    secret: z.string().min(1, "The secret is required").max(64 * 1024),
  })
  .superRefine((v, ctx) => {
    if (v.kind === "ssh_key" && !PRIVATE_KEY.test(v.secret)) ctx.addIssue({ code: "custom", path: ["secret"], message: "Paste an unencrypted private key in OpenSSH or PEM format" });
  });
export type CredentialInputValue = z.output<typeof CredentialInput>;

export const CredentialReplaceInput = z.object({ credentialId: z.string().uuid(), secret: z.string().min(1, "The new secret is required").max(64 * 1024) });
export const CredentialIdInput = z.object({ credentialId: z.string().uuid() });

interface SealedRow {
  id: string;
  kind: string;
  username: string;
}

// A JSON array: unambiguous whatever the username holds (no separator it could contain).
const aad = (c: SealedRow) => JSON.stringify(["tlsfleet.credential", c.id, c.kind, c.username]);
// "v1" envelopes (symmetric key, before sealing) were bound to the id only.
const legacyAad = (id: string) => `credential:${id}`;

function seal(secret: string, c: SealedRow, key: SealingKey): { secretEncrypted: string; keyId: string } {
  return { secretEncrypted: sealSecret(secret, key, aad(c)), keyId: key.id };
}

/** Opens either envelope format; v1 only with the legacy keys a worker was given. */
function open(c: SealedRow & { secretEncrypted: string }): string {
  if (sealedKeyId(c.secretEncrypted) !== null) return openSealedSecret(c.secretEncrypted, openingKeys(), aad(c));
  return decryptSecret(c.secretEncrypted, legacyKeys(), legacyAad(c.id));
}

/** What the UI may see: never the secret. */
export async function listCredentials() {
  const rows = await prisma.credential.findMany({
    orderBy: { name: "asc" },
    select: { id: true, name: true, kind: true, username: true, keyId: true, updatedAt: true, _count: { select: { hosts: true } } },
  });
  return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind as CredentialKind, username: r.username, keyId: r.keyId, updatedAt: r.updatedAt, hostCount: r._count.hosts }));
}

export async function createCredential(actor: Actor, input: CredentialInputValue) {
  if (await prisma.credential.findUnique({ where: { name: input.name }, select: { id: true } })) throw new CredentialError(`A credential named ${input.name} already exists`);
  const key = sealingKey();
  const id = randomUUID();
  return prisma.$transaction(async (tx) => {
    const c = await tx.credential.create({ data: { id, name: input.name, kind: input.kind, username: input.username, ...seal(input.secret, { id, kind: input.kind, username: input.username }, key) } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "credential.create", target: `credential:${c.name}`, details: { kind: c.kind, username: c.username } });
    return { id: c.id };
  });
}

export async function replaceCredentialSecret(actor: Actor, input: z.output<typeof CredentialReplaceInput>) {
  const key = sealingKey();
  return prisma.$transaction(async (tx) => {
    const c = await tx.credential.findUnique({ where: { id: input.credentialId } });
    if (!c) throw new CredentialError("That credential no longer exists");
    if (c.kind === "ssh_key" && !PRIVATE_KEY.test(input.secret)) throw new CredentialError("Paste an unencrypted private key in OpenSSH or PEM format");
    await tx.credential.update({ where: { id: c.id }, data: seal(input.secret, c, key) });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "credential.replace_secret", target: `credential:${c.name}` });
  });
}

export async function deleteCredential(actor: Actor, input: z.output<typeof CredentialIdInput>) {
  return prisma.$transaction(async (tx) => {
    const c = await tx.credential.findUnique({ where: { id: input.credentialId }, include: { _count: { select: { hosts: true } } } });
    if (!c) throw new CredentialError("That credential no longer exists");
    // Hosts keep working as inventory; they lose their credential (onDelete: SetNull) and say so.
    await tx.credential.delete({ where: { id: c.id } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "credential.delete", target: `credential:${c.name}`, details: { hostsUsingIt: c._count.hosts } });
  });
}

/** Worker only: the decrypted secret for one remote session. Never log or return it further. */
export async function secretForWorker(credentialId: string): Promise<{ kind: CredentialKind; username: string; secret: string }> {
  const c = await prisma.credential.findUnique({ where: { id: credentialId } });
  if (!c) throw new CredentialError("The host's credential was deleted");
  return { kind: c.kind as CredentialKind, username: c.username, secret: open(c) };
}

/**
 * Worker only: re-seals every credential not sealed to the current public key (legacy "v1"
 * envelopes, and those sealed to a retired key), opening each with the keys this worker holds.
 * Run by every worker at start and by `tlsfleet credentials rotate`. A credential no key opens is
 * reported by name and left as it is, so one damaged row cannot block the others. Each row is
 * written only if its envelope is still the one that was opened: a secret an admin replaced in
 * the meantime is never overwritten with the old one.
 */
export async function rotateCredentialKeys(): Promise<{ rotated: number; total: number; unreadable: string[] }> {
  const key = sealingKey();
  const rows = await prisma.credential.findMany({ select: { id: true, name: true, kind: true, username: true, secretEncrypted: true } });
  let rotated = 0;
  const unreadable: string[] = [];
  for (const r of rows) {
    if (sealedKeyId(r.secretEncrypted) === key.id) continue;
    let plain: string;
    try {
      plain = open(r);
    } catch {
      unreadable.push(r.name);
      continue;
    }
    const { count } = await prisma.credential.updateMany({ where: { id: r.id, secretEncrypted: r.secretEncrypted }, data: seal(plain, r, key) });
    rotated += count;
  }
  if (rotated > 0 || unreadable.length > 0) {
    await recordAudit({ actor: "system", action: "credential.rotate_keys", details: { rotated, total: rows.length, unreadable, keyId: key.id } });
  }
  return { rotated, total: rows.length, unreadable };
}
