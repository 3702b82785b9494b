// The audit checkpoint signing key: an Ed25519 key pair in TLSFLEET_AUDIT_KEY_DIR (default
// <repo>/.audit-key, outside DATA_DIR and never in the database), created on first use.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env } from "../env";
import { keyIdOf } from "./checkpoint";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const PRIVATE_FILE = "audit-signing-key.pem";
const PUBLIC_FILE = "audit-signing-key.pub.pem";

export interface AuditKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
  dir: string;
}

export function auditKeyDir(dir = env.TLSFLEET_AUDIT_KEY_DIR): string {
  return path.resolve(PROJECT_ROOT, dir);
}

function fromPrivatePem(pem: string, dir: string): AuditKeys {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`${path.join(dir, PRIVATE_FILE)} is not an Ed25519 key`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyId: keyIdOf(publicKey), dir };
}

/**
 * Loads the key pair, creating it when absent. Two processes starting at once (web and worker)
 * each write a candidate beside the final name and hard-link it into place; link() fails for the
 * loser, which then reads the winner's key.
 */
export function loadOrCreateAuditKeys(dirOption?: string): AuditKeys {
  const dir = auditKeyDir(dirOption);
  const file = path.join(dir, PRIVATE_FILE);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ed25519");
    const candidate = `${file}.${process.pid}.tmp`;
    writeFileSync(candidate, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    try {
      linkSync(candidate, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      unlinkSync(candidate);
    }
  }
  chmodSync(file, 0o600);
  const keys = fromPrivatePem(readFileSync(file, "utf8"), dir);
  const pub = path.join(dir, PUBLIC_FILE);
  if (!existsSync(pub) || readFileSync(pub, "utf8") !== keys.publicKeyPem) writeFileSync(pub, keys.publicKeyPem, { mode: 0o644 });
  return keys;
}

/** The public key only (for verifying): the .pub.pem file, or derived from the private key. */
export function loadAuditPublicKey(dirOption?: string): KeyObject {
  const dir = auditKeyDir(dirOption);
  const pub = path.join(dir, PUBLIC_FILE);
  if (existsSync(pub)) return createPublicKey(readFileSync(pub, "utf8"));
  const file = path.join(dir, PRIVATE_FILE);
  if (existsSync(file)) return fromPrivatePem(readFileSync(file, "utf8"), dir).publicKey;
  throw new Error(`No audit signing key in ${dir}: start tlsfleet once (it creates one) or set TLSFLEET_AUDIT_KEY_DIR`);
}
