// The credential key pair on disk, and which process gets which half.
//
//   ${TLSFLEET_KEY_DIR}/credentials.pub        X25519 public key, base64url (seals; not secret)
//   ${TLSFLEET_KEY_DIR}/credentials.key        its private key, PKCS#8 PEM (opens; workers only)
//   ${TLSFLEET_KEY_DIR}/retired/<keyId>.key    earlier private keys, still opening old envelopes
//
// The directory is 0700 and the files 0600. It is not DATA_DIR: a copy or backup of the database
// directory (or the database itself) holds ciphertext only, never a key that opens it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateSealingKeyPair, parseOpeningKey, sealingKeyOf } from "../crypto/sealed-box";

export const PUBLIC_KEY_FILE = "credentials.pub";
export const PRIVATE_KEY_FILE = "credentials.key";
const RETIRED_DIR = "retired";

export interface CredentialKeyFiles {
  /** base64url public key (the value of TLSFLEET_CREDENTIAL_PUBLIC_KEY). */
  publicKey: string;
  keyId: string;
  /** The current private key file first, then retired ones (TLSFLEET_CREDENTIAL_PRIVATE_KEYS). */
  privateKeyFiles: string[];
  created: boolean;
}

function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Reads the key pair in keyDir, creating it on first use. A private key without its public file
 * gets the public file back; a public file without its private key is refused: credentials sealed
 * to it could never be opened again, and a silently new pair would hide that.
 */
export function ensureCredentialKeyPair(keyDir: string): CredentialKeyFiles {
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  chmodSync(keyDir, 0o700);
  const privateFile = path.join(keyDir, PRIVATE_KEY_FILE);
  const publicFile = path.join(keyDir, PUBLIC_KEY_FILE);
  let created = false;
  if (!existsSync(privateFile)) {
    if (existsSync(publicFile)) {
      throw new Error(`${publicFile} exists but its private key ${privateFile} is missing: restore it from backup (credentials sealed to it cannot be opened without it), or move ${publicFile} away to start with a new key pair`);
    }
    const pair = generateSealingKeyPair();
    writePrivate(privateFile, pair.privateKeyPem);
    created = true;
  }
  chmodSync(privateFile, 0o600);
  const opening = parseOpeningKey(readFileSync(privateFile, "utf8"));
  const publicKey = sealingKeyOf(opening).raw.toString("base64url");
  if (!existsSync(publicFile) || readFileSync(publicFile, "utf8").trim() !== publicKey) writePrivate(publicFile, publicKey + "\n");
  const retiredDir = path.join(keyDir, RETIRED_DIR);
  const retired = existsSync(retiredDir) ? readdirSync(retiredDir).filter((n) => n.endsWith(".key")).sort().map((n) => path.join(retiredDir, n)) : [];
  return { publicKey, keyId: opening.id, privateKeyFiles: [privateFile, ...retired], created };
}

/**
 * Starts a new key pair: the current private key moves to retired/<keyId>.key (workers keep
 * opening what was sealed to it), and a fresh pair takes its place. Re-seal afterwards with
 * `tlsfleet credentials rotate`; then the retired file may be deleted.
 */
export function retireCredentialKeyPair(keyDir: string): CredentialKeyFiles {
  const current = ensureCredentialKeyPair(keyDir);
  const retiredDir = path.join(keyDir, RETIRED_DIR);
  mkdirSync(retiredDir, { recursive: true, mode: 0o700 });
  renameSync(current.privateKeyFiles[0], path.join(retiredDir, `${current.keyId}.key`));
  renameSync(path.join(keyDir, PUBLIC_KEY_FILE), path.join(retiredDir, `${current.keyId}.pub`));
  return ensureCredentialKeyPair(keyDir);
}

/** Every variable that can hand a process a key that opens credentials. */
const OPENING_VARIABLES = ["TLSFLEET_CREDENTIAL_PRIVATE_KEYS", "TLSFLEET_SECRET_KEY", "TLSFLEET_SECRET_KEYS_OLD", "TLSFLEET_KEY_DIR"] as const;

/**
 * The environments of the two processes `tlsfleet start` runs: the web process can seal (public
 * key) and nothing more; the worker also gets the private key files and the legacy keys.
 */
export function processEnvironments(base: NodeJS.ProcessEnv, keys: CredentialKeyFiles): { web: NodeJS.ProcessEnv; worker: NodeJS.ProcessEnv } {
  const web: NodeJS.ProcessEnv = { ...base, TLSFLEET_CREDENTIAL_PUBLIC_KEY: keys.publicKey };
  for (const name of OPENING_VARIABLES) delete web[name];
  const worker: NodeJS.ProcessEnv = { ...base, TLSFLEET_CREDENTIAL_PUBLIC_KEY: keys.publicKey, TLSFLEET_CREDENTIAL_PRIVATE_KEYS: keys.privateKeyFiles.join(",") };
  return { web, worker };
}
