// Secrets the app needs at runtime but the operator need not provide on a first start:
// generated once into DATA_DIR/secrets.json (mode 0600) and reused, so sessions and
// encrypted credentials survive restarts. Explicit environment variables always win.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const SecretsFile = z.object({ nextauthSecret: z.string().min(32), secretKey: z.string().min(32) });
export type RuntimeSecrets = z.infer<typeof SecretsFile>;

export function loadOrCreateRuntimeSecrets(dataDir: string): RuntimeSecrets {
  const file = path.join(dataDir, "secrets.json");
  if (existsSync(file)) {
    const parsed = SecretsFile.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) throw new Error(`${file} is damaged; restore it from backup (credentials encrypted with its key cannot be read without it)`);
    return parsed.data;
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets: RuntimeSecrets = { nextauthSecret: randomBytes(32).toString("base64url"), secretKey: randomBytes(32).toString("base64") };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}
