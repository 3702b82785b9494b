// The credential encryption keys in force: TLSFLEET_SECRET_KEY encrypts; it and any
// TLSFLEET_SECRET_KEYS_OLD ("keyId:material,..." or just "material,...") decrypt.
import { env } from "../env";
import { makeKey, type SecretKey } from "../crypto/secrets";

export class MissingSecretKeyError extends Error {
  readonly userFacing = true;
  constructor() {
    super("No credential encryption key: set TLSFLEET_SECRET_KEY (tlsfleet start generates one into DATA_DIR/secrets.json)");
  }
}

export function currentKey(): SecretKey {
  if (!env.TLSFLEET_SECRET_KEY) throw new MissingSecretKeyError();
  return makeKey(env.TLSFLEET_SECRET_KEY);
}

export function decryptionKeys(): SecretKey[] {
  const keys = [currentKey()];
  for (const entry of (env.TLSFLEET_SECRET_KEYS_OLD ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const material = entry.includes(":") ? entry.slice(entry.indexOf(":") + 1) : entry;
    keys.push(makeKey(material));
  }
  return keys;
}
