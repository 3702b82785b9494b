// Legacy ("v1") secret envelopes: AES-256-GCM under a symmetric key (TLSFLEET_SECRET_KEY) with the
// key id beside the ciphertext. Credentials are now sealed to a public key instead
// (./sealed-box.ts); v1 envelopes are still opened by workers and re-sealed when they start
// (lib/credentials/service.ts rotateCredentialKeys). encryptSecret remains for tests that need a
// v1 envelope as older versions wrote it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export interface SecretKey {
  id: string;
  key: Buffer;
}

export function parseKey(material: string): Buffer {
  const trimmed = material.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new Error("A secret key must be 32 bytes (64 hex characters or 44 base64 characters)");
  return key;
}

/** Key id: first 8 hex chars of SHA-256(key) — identifies the key without revealing it. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

export function makeKey(material: string): SecretKey {
  const key = parseKey(material);
  return { id: keyId(key), key };
}

export function encryptSecret(plaintext: string, key: SecretKey, associatedData = ""): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key.key, iv);
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v1", key.id, iv.toString("base64"), tag.toString("base64"), ct.toString("base64")].join(":");
}

export class SecretDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretDecryptError";
  }
}

export function decryptSecret(envelope: string, keys: SecretKey[], associatedData = ""): string {
  const parts = envelope.split(":");
  if (parts.length !== 5 || parts[0] !== "v1") throw new SecretDecryptError("Not a tlsfleet secret envelope");
  const [, id, iv, tag, ct] = parts;
  const key = keys.find((k) => k.id === id);
  if (!key) throw new SecretDecryptError(`Secret was encrypted with key ${id}, which is not configured (TLSFLEET_SECRET_KEY / TLSFLEET_SECRET_KEYS_OLD)`);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(ct, "base64")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretDecryptError("Secret failed authentication: wrong key or tampered ciphertext");
  }
}
