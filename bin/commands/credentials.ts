// `tlsfleet credentials rotate [--new-key]`: re-seal every stored credential to the current
// credential public key (legacy "v1" envelopes and those sealed to a retired key). With
// --new-key, the key pair in TLSFLEET_KEY_DIR is retired first (kept in retired/ so its
// credentials still open) and a new one created; restart tlsfleet afterwards so the web and the
// worker take the new key. This command opens credentials, so it reads the private keys like a
// worker does.
import path from "node:path";
import { env, reloadEnv } from "../../lib/env";
import { loadOrCreateRuntimeSecrets } from "../../lib/runtime-secrets";
import { ensureCredentialKeyPair, retireCredentialKeyPair } from "../../lib/credentials/key-files";

const ROOT = path.resolve(__dirname, "..", "..");

export async function run(argv: string[]): Promise<number> {
  if (argv[0] !== "rotate" || argv.length > 2 || (argv[1] !== undefined && argv[1] !== "--new-key")) {
    console.error("usage: tlsfleet credentials rotate [--new-key]");
    return 2;
  }
  const keyDir = path.resolve(ROOT, env.TLSFLEET_KEY_DIR);
  const keys = argv[1] === "--new-key" ? retireCredentialKeyPair(keyDir) : ensureCredentialKeyPair(keyDir);
  process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY = keys.publicKey;
  process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS = keys.privateKeyFiles.join(",");
  const legacy = loadOrCreateRuntimeSecrets(path.resolve(ROOT, env.DATA_DIR)).secretKey;
  if (legacy) process.env.TLSFLEET_SECRET_KEY ??= legacy;
  reloadEnv();
  const { ensureDatabase } = await import("../../lib/db/database");
  const db = await ensureDatabase();
  try {
    const { rotateCredentialKeys } = await import("../../lib/credentials/service");
    const r = await rotateCredentialKeys();
    console.log(`Re-sealed ${r.rotated} of ${r.total} credentials to key ${keys.keyId}.`);
    if (r.unreadable.length) {
      console.error(`No key opens: ${r.unreadable.join(", ")}. Put the private key they were sealed to in ${keyDir}/retired/ (or the legacy key in TLSFLEET_SECRET_KEYS_OLD), or replace their secrets in Settings > Credentials.`);
      return 1;
    }
    return 0;
  } finally {
    const { disconnectPrisma } = await import("../../lib/db");
    await disconnectPrisma();
    await db.stop();
  }
}
