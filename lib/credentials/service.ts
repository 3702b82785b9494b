import "server-only";
// Credentials for SSH and WinRM. The secret is encrypted before it reaches the database, bound to
// the credential's id (AES-GCM associated data) so a ciphertext cannot be moved to another row,
// and only `secretForWorker()` ever decrypts it. Nothing here returns secret material to a caller
// that renders or exports.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import { decryptSecret, encryptSecret, envelopeKeyId } from "../crypto/secrets";
import { currentKey, decryptionKeys } from "./keys";

export const CREDENTIAL_KINDS = ["ssh_key", "ssh_password", "winrm_ntlm", "winrm_basic"] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export class CredentialError extends Error {
  readonly userFacing = true;
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

interface ActorRef {
  id: string;
  email: string;
}

const aad = (id: string) => `credential:${id}`;

/** What the UI may see: never the secret. */
export async function listCredentials() {
  const rows = await prisma.credential.findMany({
    orderBy: { name: "asc" },
    select: { id: true, name: true, kind: true, username: true, keyId: true, updatedAt: true, _count: { select: { hosts: true } } },
  });
  return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind as CredentialKind, username: r.username, keyId: r.keyId, updatedAt: r.updatedAt, hostCount: r._count.hosts }));
}

export async function createCredential(actor: ActorRef, input: CredentialInputValue) {
  if (await prisma.credential.findUnique({ where: { name: input.name }, select: { id: true } })) throw new CredentialError(`A credential named ${input.name} already exists`);
  const key = currentKey();
  const id = randomUUID();
  return prisma.$transaction(async (tx) => {
    const c = await tx.credential.create({ data: { id, name: input.name, kind: input.kind, username: input.username, secretEncrypted: encryptSecret(input.secret, key, aad(id)), keyId: key.id } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "credential.create", target: `credential:${c.name}`, details: { kind: c.kind, username: c.username } });
    return { id: c.id };
  });
}

export async function replaceCredentialSecret(actor: ActorRef, input: z.output<typeof CredentialReplaceInput>) {
  const key = currentKey();
  return prisma.$transaction(async (tx) => {
    const c = await tx.credential.findUnique({ where: { id: input.credentialId } });
    if (!c) throw new CredentialError("That credential no longer exists");
    if (c.kind === "ssh_key" && !PRIVATE_KEY.test(input.secret)) throw new CredentialError("Paste an unencrypted private key in OpenSSH or PEM format");
    await tx.credential.update({ where: { id: c.id }, data: { secretEncrypted: encryptSecret(input.secret, key, aad(c.id)), keyId: key.id } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "credential.replace_secret", target: `credential:${c.name}` });
  });
}

export async function deleteCredential(actor: ActorRef, input: z.output<typeof CredentialIdInput>) {
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
  return { kind: c.kind as CredentialKind, username: c.username, secret: decryptSecret(c.secretEncrypted, decryptionKeys(), aad(c.id)) };
}

/**
 * Re-encrypts every credential with the current key (key rotation). A credential that no
 * configured key can open is reported by name and left as it is, so one damaged row cannot block
 * the rotation of the others.
 */
export async function rotateCredentialKeys(): Promise<{ rotated: number; total: number; unreadable: string[] }> {
  const key = currentKey();
  const keys = decryptionKeys();
  const rows = await prisma.credential.findMany({ select: { id: true, name: true, secretEncrypted: true } });
  let rotated = 0;
  const unreadable: string[] = [];
  await prisma.$transaction(async (tx) => {
    for (const r of rows) {
      if (envelopeKeyId(r.secretEncrypted) === key.id) continue;
      let plain: string;
      try {
        plain = decryptSecret(r.secretEncrypted, keys, aad(r.id));
      } catch {
        unreadable.push(r.name);
        continue;
      }
      await tx.credential.update({ where: { id: r.id }, data: { secretEncrypted: encryptSecret(plain, key, aad(r.id)), keyId: key.id } });
      rotated++;
    }
    await recordAuditInTx(tx, { actor: "system", action: "credential.rotate_keys", details: { rotated, total: rows.length, unreadable, keyId: key.id } });
  });
  return { rotated, total: rows.length, unreadable };
}
