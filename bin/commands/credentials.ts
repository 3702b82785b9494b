// `tlsfleet credentials rotate`: re-encrypt every stored credential with TLSFLEET_SECRET_KEY.
// Rotation: move the old key to TLSFLEET_SECRET_KEYS_OLD, set the new TLSFLEET_SECRET_KEY, run
// this, then remove the old key.
import path from "node:path";
import { env, reloadEnv } from "../../lib/env";
import { loadOrCreateRuntimeSecrets } from "../../lib/runtime-secrets";

export async function run(argv: string[]): Promise<number> {
  if (argv[0] !== "rotate" || argv.length !== 1) {
    console.error("usage: tlsfleet credentials rotate");
    return 2;
  }
  if (!env.TLSFLEET_SECRET_KEY) {
    process.env.TLSFLEET_SECRET_KEY = loadOrCreateRuntimeSecrets(path.resolve(env.DATA_DIR)).secretKey;
    reloadEnv();
  }
  const { ensureDatabase } = await import("../../lib/db/database");
  const db = await ensureDatabase();
  try {
    const { rotateCredentialKeys } = await import("../../lib/credentials/service");
    const r = await rotateCredentialKeys();
    console.log(`Re-encrypted ${r.rotated} of ${r.total} credentials with the current key.`);
    if (r.unreadable.length) {
      console.error(`No configured key opens: ${r.unreadable.join(", ")}. Add the key they were written with to TLSFLEET_SECRET_KEYS_OLD, or replace their secrets in Settings > Credentials.`);
      return 1;
    }
    return 0;
  } finally {
    const { disconnectPrisma } = await import("../../lib/db");
    await disconnectPrisma();
    await db.stop();
  }
}
