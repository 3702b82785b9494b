// Only workers open credentials: `tlsfleet start` gives the web process the public key (it can
// seal) and nothing that opens; the worker gets the private key file. Both run here as real
// processes against the real database, with exactly the environments start gives them.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ensureCredentialKeyPair, processEnvironments } from "@/lib/credentials/key-files";

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(tmpdir(), "tlsfleet-custody-"));
const keyDir = path.join(tmp, "keys");
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  // Sealed to this file's own key pair: no other file's worker could open them.
  const { prisma } = await import("@/lib/db");
  await prisma.credential.deleteMany({ where: { name: { startsWith: "custody-" } } });
});

// What the shell that runs `tlsfleet start` has, without the test run's own key pair.
function startEnvironment(): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, TLSFLEET_KEY_DIR: keyDir, TLSFLEET_SECRET_KEY: "bGVnYWN5LWtleS1vZi1hbi1vbGRlci1pbnN0YWxsIQ==" };
  delete base.TLSFLEET_CREDENTIAL_PUBLIC_KEY;
  delete base.TLSFLEET_CREDENTIAL_PRIVATE_KEYS;
  return base;
}

async function child(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Record<string, unknown>> {
  const script = path.join(import.meta.dirname, "credential-custody-child.ts");
  const { stdout } = await run(process.execPath, ["--conditions=react-server", "--import", "tsx", script, ...args], { env: { ...env, LOG_LEVEL: "silent" } }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }),
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
}

describe("credential key custody", () => {
  const keys = ensureCredentialKeyPair(keyDir);
  const envs = processEnvironments(startEnvironment(), keys);
  const privatePem = readFileSync(keys.privateKeyFiles[0], "utf8");

  it("keeps the key pair in its own directory, 0700 and 0600", () => {
    expect(statSync(keyDir).mode & 0o777).toBe(0o700);
    expect(statSync(keys.privateKeyFiles[0]).mode & 0o777).toBe(0o600);
    expect(ensureCredentialKeyPair(keyDir).keyId).toBe(keys.keyId);
  });

  it("gives the web process no private key, no path to one and no legacy key", () => {
    const values = Object.values(envs.web).join("\n");
    expect(values).not.toContain(keys.privateKeyFiles[0]);
    expect(values).not.toContain(keyDir);
    expect(values).not.toContain(privatePem.split("\n")[1]);
    expect(envs.web.TLSFLEET_CREDENTIAL_PRIVATE_KEYS).toBeUndefined();
    expect(envs.web.TLSFLEET_SECRET_KEY).toBeUndefined();
    expect(envs.web.TLSFLEET_CREDENTIAL_PUBLIC_KEY).toBe(keys.publicKey);
    expect(envs.worker.TLSFLEET_CREDENTIAL_PRIVATE_KEYS).toBe(keys.privateKeyFiles[0]);
  });

  it("lets the web process seal a credential it cannot open, and the worker open it", async () => {
    const name = `custody-${Date.now()}`;
    const web = await child(envs.web, "seal", name, "Ssh-Pa55word-web-cannot-read");
    expect(web.error).toBeUndefined();
    expect(web.opened).toEqual({ ok: false, error: expect.stringMatching(/does not hold/) });
    const worker = await child(envs.worker, "open", String(web.id));
    expect(worker).toEqual({ secret: "Ssh-Pa55word-web-cannot-read" });
  });

  it("refuses a private key file other users can read", async () => {
    const { chmodSync } = await import("node:fs");
    chmodSync(keys.privateKeyFiles[0], 0o640);
    try {
      const worker = await child(envs.worker, "seal", `custody-mode-${Date.now()}`, "x-secret");
      expect(worker.opened).toEqual({ ok: false, error: expect.stringMatching(/readable by other users.*chmod 600/) });
    } finally {
      chmodSync(keys.privateKeyFiles[0], 0o600);
    }
  });

  it("refuses a public key whose private key is gone, rather than starting a new pair", () => {
    const lonely = path.join(tmp, "lonely");
    const pair = ensureCredentialKeyPair(lonely);
    rmSync(pair.privateKeyFiles[0]);
    expect(() => ensureCredentialKeyPair(lonely)).toThrow(/private key .* is missing: restore it/);
  });
});
