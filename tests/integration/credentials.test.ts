// Credentials at rest: sealed to the credential public key, bound to their row (id, kind,
// username), never listed; legacy "v1" envelopes still open and are re-sealed; keys rotate.
// The run's key pair comes from tests/support/global-setup.ts (this process holds both halves).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { encryptSecret, makeKey } from "@/lib/crypto/secrets";
import { ensureCredentialKeyPair, retireCredentialKeyPair } from "@/lib/credentials/key-files";

const actor = { id: "00000000-0000-4000-8000-000000000001", email: "cred-admin@example.test" };
const legacyKey = randomBytes(32).toString("base64");
const PASSWORD = "Winrm-Pa55word-that-must-not-leak";
const runKeys = { pub: process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY, priv: process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS };
const tmp = mkdtempSync(path.join(tmpdir(), "tlsfleet-cred-keys-"));

beforeAll(() => {
  delete process.env.TLSFLEET_SECRET_KEY;
  delete process.env.TLSFLEET_SECRET_KEYS_OLD;
  reloadEnv();
});
afterAll(() => {
  process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY = runKeys.pub;
  process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS = runKeys.priv;
  delete process.env.TLSFLEET_SECRET_KEY;
  reloadEnv();
  rmSync(tmp, { recursive: true, force: true });
});

describe("credentials", () => {
  it("stores only ciphertext, lists no secret, and decrypts for the worker", async () => {
    const { prisma } = await import("@/lib/db");
    const svc = await import("@/lib/credentials/service");
    const name = `exch-${Date.now()}`;
    const { id } = await svc.createCredential(actor, svc.CredentialInput.parse({ name, kind: "winrm_ntlm", username: "CONTOSO\\svc-tls", secret: PASSWORD }));
    const row = await prisma.credential.findUniqueOrThrow({ where: { id } });
    expect(row.secretEncrypted).not.toContain(PASSWORD);
    expect(row.secretEncrypted.startsWith("v2:")).toBe(true);
    expect(JSON.stringify(await svc.listCredentials())).not.toContain(PASSWORD);
    expect(JSON.stringify(await svc.listCredentials())).not.toContain(row.secretEncrypted);
    expect((await svc.secretForWorker(id)).secret).toBe(PASSWORD);
    const audit = await prisma.auditEvent.findMany({ where: { target: `credential:${name}` } });
    expect(audit.map((a) => a.action)).toEqual(["credential.create"]);
    expect(JSON.stringify(audit.map((a) => ({ ...a, id: String(a.id), seq: String(a.seq) })))).not.toContain(PASSWORD);
  });

  it("refuses a ciphertext copied onto another credential", async () => {
    const { prisma } = await import("@/lib/db");
    const svc = await import("@/lib/credentials/service");
    const a = await svc.createCredential(actor, svc.CredentialInput.parse({ name: `a-${Date.now()}`, kind: "ssh_password", username: "root", secret: "secret-a" }));
    const b = await svc.createCredential(actor, svc.CredentialInput.parse({ name: `b-${Date.now()}`, kind: "ssh_password", username: "root", secret: "secret-b" }));
    const rowA = await prisma.credential.findUniqueOrThrow({ where: { id: a.id } });
    await prisma.credential.update({ where: { id: b.id }, data: { secretEncrypted: rowA.secretEncrypted } });
    await expect(svc.secretForWorker(b.id)).rejects.toThrow(/failed authentication/);
  });

  it("rejects a key kind with no private key, and shell characters in the username", () => {
    return import("@/lib/credentials/service").then((svc) => {
      expect(svc.CredentialInput.safeParse({ name: "k", kind: "ssh_key", username: "root", secret: "hunter2" }).success).toBe(false);
      expect(svc.CredentialInput.safeParse({ name: "k", kind: "ssh_password", username: "root;reboot", secret: "x" }).success).toBe(false);
    });
  });

  it("refuses a ciphertext whose row got another username or kind", async () => {
    const { prisma } = await import("@/lib/db");
    const svc = await import("@/lib/credentials/service");
    const c = await svc.createCredential(actor, svc.CredentialInput.parse({ name: `u-${Date.now()}`, kind: "ssh_password", username: "svc-tls", secret: "secret-u" }));
    await prisma.credential.update({ where: { id: c.id }, data: { username: "root" } });
    await expect(svc.secretForWorker(c.id)).rejects.toThrow(/failed authentication/);
    await prisma.credential.update({ where: { id: c.id }, data: { username: "svc-tls", kind: "winrm_basic" } });
    await expect(svc.secretForWorker(c.id)).rejects.toThrow(/failed authentication/);
    await prisma.credential.update({ where: { id: c.id }, data: { kind: "ssh_password" } });
    expect((await svc.secretForWorker(c.id)).secret).toBe("secret-u");
  });

  it("opens a legacy v1 envelope with the legacy key and re-seals it; a replaced secret is sealed", async () => {
    const { prisma } = await import("@/lib/db");
    const svc = await import("@/lib/credentials/service");
    const make = async (name: string, secret: string) => {
      const { id } = await svc.createCredential(actor, svc.CredentialInput.parse({ name, kind: "winrm_ntlm", username: "CONTOSO\\svc", secret: "placeholder" }));
      // As versions before sealing wrote it: AES-GCM under TLSFLEET_SECRET_KEY, bound to the id.
      const key = makeKey(legacyKey);
      await prisma.credential.update({ where: { id }, data: { secretEncrypted: encryptSecret(secret, key, `credential:${id}`), keyId: key.id } });
      return id;
    };
    const legacyName = `v1-${Date.now()}`;
    const legacy = await make(legacyName, "legacy-secret");
    const replaced = await make(`v1r-${Date.now()}`, "legacy-secret-2");
    await expect(svc.secretForWorker(legacy)).rejects.toThrow(/not configured/);
    process.env.TLSFLEET_SECRET_KEY = legacyKey;
    reloadEnv();
    expect((await svc.secretForWorker(legacy)).secret).toBe("legacy-secret");

    await svc.replaceCredentialSecret(actor, { credentialId: replaced, secret: "new-secret" });
    expect((await prisma.credential.findUniqueOrThrow({ where: { id: replaced } })).secretEncrypted.startsWith("v2:")).toBe(true);

    const result = await svc.rotateCredentialKeys();
    expect(result.rotated).toBeGreaterThanOrEqual(1);
    // Other files' credentials sealed to their own keys may be reported; these two are not.
    expect(result.unreadable).not.toContain(legacyName);
    const row = await prisma.credential.findUniqueOrThrow({ where: { id: legacy } });
    expect(row.secretEncrypted.startsWith("v2:")).toBe(true);
    delete process.env.TLSFLEET_SECRET_KEY;
    reloadEnv();
    expect((await svc.secretForWorker(legacy)).secret).toBe("legacy-secret");
    expect((await svc.secretForWorker(replaced)).secret).toBe("new-secret");
    expect((await svc.rotateCredentialKeys()).unreadable).not.toContain(legacyName);
    expect((await prisma.credential.findUniqueOrThrow({ where: { id: legacy } })).secretEncrypted).toBe(row.secretEncrypted);
  });

  it("is re-sealed by a worker when it starts", async () => {
    const { prisma } = await import("@/lib/db");
    const svc = await import("@/lib/credentials/service");
    const { resealCredentialsAtStart } = await import("@/agents/credential-keys");
    const { id } = await svc.createCredential(actor, svc.CredentialInput.parse({ name: `v1w-${Date.now()}`, kind: "ssh_password", username: "root", secret: "placeholder" }));
    await prisma.credential.update({ where: { id }, data: { secretEncrypted: encryptSecret("worker-reseals-me", makeKey(legacyKey), `credential:${id}`) } });
    process.env.TLSFLEET_SECRET_KEY = legacyKey;
    reloadEnv();
    await resealCredentialsAtStart();
    delete process.env.TLSFLEET_SECRET_KEY;
    reloadEnv();
    const row = await prisma.credential.findUniqueOrThrow({ where: { id } });
    expect(row.secretEncrypted.startsWith("v2:")).toBe(true);
    expect((await svc.secretForWorker(id)).secret).toBe("worker-reseals-me");
  });

  it("rotates to a new key pair, opening what the retired key sealed until it is re-sealed", async () => {
    const svc = await import("@/lib/credentials/service");
    const { prisma } = await import("@/lib/db");
    const dir = path.join(tmp, "keys");
    const use = (k: { publicKey: string; privateKeyFiles: string[] }) => {
      process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY = k.publicKey;
      process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS = [...k.privateKeyFiles, ...(runKeys.priv ?? "").split(",")].join(",");
      reloadEnv();
    };
    const first = ensureCredentialKeyPair(dir);
    use(first);
    const { id } = await svc.createCredential(actor, svc.CredentialInput.parse({ name: `rot-${Date.now()}`, kind: "ssh_password", username: "root", secret: "rotate-me" }));
    const second = retireCredentialKeyPair(dir);
    expect(second.keyId).not.toBe(first.keyId);
    expect(second.privateKeyFiles).toHaveLength(2);
    use(second);
    expect((await svc.secretForWorker(id)).secret).toBe("rotate-me");
    const result = await svc.rotateCredentialKeys();
    expect(result.rotated).toBeGreaterThanOrEqual(1);
    const row = await prisma.credential.findUniqueOrThrow({ where: { id } });
    expect(row.keyId).toBe(second.keyId);
    // The retired key is no longer needed for it.
    process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS = second.privateKeyFiles[0];
    reloadEnv();
    expect((await svc.secretForWorker(id)).secret).toBe("rotate-me");
  });
});
