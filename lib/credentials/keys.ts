// The credential keys this process holds. Every process may seal (the public key); only a worker
// opens (TLSFLEET_CREDENTIAL_PRIVATE_KEYS, set by `tlsfleet start` for the worker alone, and the
// legacy symmetric keys of "v1" envelopes). The private key is never derived from TLSFLEET_KEY_DIR
// here: a process that was not handed its path has no way to it in its configuration.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { env } from "../env";
import { makeKey, type SecretKey } from "../crypto/secrets";
import { parseOpeningKey, parseSealingKey, type OpeningKey, type SealingKey } from "../crypto/sealed-box";
import { PUBLIC_KEY_FILE } from "./key-files";
import { AppError } from "../errors";

export class MissingSecretKeyError extends AppError {
  constructor(message = `No credential public key: set TLSFLEET_CREDENTIAL_PUBLIC_KEY, or run tlsfleet start once (it creates ${PUBLIC_KEY_FILE} in TLSFLEET_KEY_DIR)`) {
    super(message);
    this.name = "MissingSecretKeyError";
  }
}

/** The public key new credentials are sealed to. */
export function sealingKey(): SealingKey {
  if (env.TLSFLEET_CREDENTIAL_PUBLIC_KEY) return parseSealingKey(env.TLSFLEET_CREDENTIAL_PUBLIC_KEY);
  // Relative to the working directory, the repository root for `next dev` and `tlsfleet` alike
  // (__dirname is not this file's directory once Next has bundled it).
  const file = path.join(path.resolve(env.TLSFLEET_KEY_DIR), PUBLIC_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new MissingSecretKeyError();
  }
  return parseSealingKey(text);
}

/** Worker only: the private keys that open sealed credentials. Empty in the web process. */
export function openingKeys(): OpeningKey[] {
  const files = (env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS ?? "").split(",").map((f) => f.trim()).filter(Boolean);
  return files.map((file) => {
    // As ssh does for its keys: a key file others can read is refused, not used.
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) throw new MissingSecretKeyError(`${file} is readable by other users (mode ${mode.toString(8)}): chmod 600 ${file}`);
    return parseOpeningKey(readFileSync(file, "utf8"));
  });
}

/** Worker only: the symmetric keys of legacy "v1" envelopes (TLSFLEET_SECRET_KEY, _OLD). */
export function legacyKeys(): SecretKey[] {
  const entries = [env.TLSFLEET_SECRET_KEY ?? "", ...(env.TLSFLEET_SECRET_KEYS_OLD ?? "").split(",")].map((s) => s.trim()).filter(Boolean);
  return entries.map((entry) => makeKey(entry.includes(":") ? entry.slice(entry.indexOf(":") + 1) : entry));
}
