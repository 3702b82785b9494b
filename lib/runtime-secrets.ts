// Secrets the app needs at runtime but the operator need not provide on a first start:
// generated once into DATA_DIR/secrets.json (mode 0600) and reused, so sessions survive restarts.
// Explicit environment variables always win. Credential keys are not here: they live in
// TLSFLEET_KEY_DIR (lib/credentials/key-files.ts). `secretKey` is only in files written before
// credentials were sealed: the legacy key of their "v1" envelopes, handed to the worker alone.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const SecretsFile = z.object({ nextauthSecret: z.string().min(32), secretKey: z.string().min(32).optional() });
export type RuntimeSecrets = z.infer<typeof SecretsFile>;

export function loadOrCreateRuntimeSecrets(dataDir: string): RuntimeSecrets {
  const file = path.join(dataDir, "secrets.json");
  if (existsSync(file)) {
    const parsed = SecretsFile.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) throw new Error(`${file} is damaged; restore it from backup (signed-in sessions end without it)`);
    return parsed.data;
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets: RuntimeSecrets = { nextauthSecret: randomBytes(32).toString("base64url") };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}
