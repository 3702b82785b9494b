// Sealing a secret to a public key (an ECIES "sealed box"): whoever holds only the public key can
// seal, and only the holder of the private key can open. tlsfleet's web process seals credentials
// with the public key; only workers load the private key (docs/security.md "Credential keys").
//
// Envelope "v2:<keyId>:<ephemeral public key>:<iv>:<tag>:<ciphertext>" (base64url fields):
//   shared  = X25519(ephemeral private key, recipient public key)        RFC 7748
//   key     = HKDF-SHA256(shared, salt = ephemeral pub || recipient pub,  RFC 5869
//                          info = "tlsfleet sealed secret v2", 32 bytes)
//   AES-256-GCM(key, random 96-bit IV, associated data = the caller's binding)
// A fresh ephemeral key per secret makes every key single-use, so a random IV is never repeated
// under one key. The salt binds both public keys into the derived key (a ciphertext cannot be
// re-labelled with another ephemeral or recipient key).
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from "node:crypto";
import { SecretDecryptError } from "./secrets";

const VERSION = "v2";
const INFO = Buffer.from("tlsfleet sealed secret v2", "utf8");

export interface SealingKey {
  id: string;
  /** The raw 32-byte X25519 public key. */
  raw: Buffer;
  key: KeyObject;
}

export interface OpeningKey {
  id: string;
  raw: Buffer;
  privateKey: KeyObject;
}

/** Key id: first 8 hex chars of SHA-256(raw public key); names the key without revealing anything. */
function publicKeyId(raw: Buffer): string {
  return createHash("sha256").update(raw).digest("hex").slice(0, 8);
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "X25519" || typeof jwk.x !== "string") throw new Error("Not an X25519 key");
  return Buffer.from(jwk.x, "base64url");
}

/** A public key written as base64url of its 32 raw bytes (the form kept in credentials.pub). */
export function parseSealingKey(text: string): SealingKey {
  const raw = Buffer.from(text.trim(), "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== text.trim()) throw new Error("A credential public key is 32 bytes written as base64url (43 characters)");
  return { id: publicKeyId(raw), raw, key: createPublicKey({ key: { kty: "OKP", crv: "X25519", x: raw.toString("base64url") }, format: "jwk" }) };
}

/** A private key in PKCS#8 PEM (the form kept in credentials.key; `openssl pkey -in` reads it). */
export function parseOpeningKey(pem: string): OpeningKey {
  const privateKey = createPrivateKey({ key: pem, format: "pem" });
  if (privateKey.asymmetricKeyType !== "x25519") throw new Error(`A credential private key must be an X25519 key, not ${privateKey.asymmetricKeyType ?? "unknown"}`);
  const raw = rawPublicKey(createPublicKey(privateKey));
  return { id: publicKeyId(raw), raw, privateKey };
}

export function generateSealingKeyPair(): { publicKey: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return { publicKey: rawPublicKey(publicKey).toString("base64url"), privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString() };
}

export function sealingKeyOf(opening: OpeningKey): SealingKey {
  return parseSealingKey(opening.raw.toString("base64url"));
}

function derive(shared: Buffer, ephemeralRaw: Buffer, recipientRaw: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([ephemeralRaw, recipientRaw]), INFO, 32));
}

export function sealSecret(plaintext: string, recipient: SealingKey, associatedData: string): string {
  const ephemeral = generateKeyPairSync("x25519");
  const ephemeralRaw = rawPublicKey(ephemeral.publicKey);
  const key = derive(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.key }), ephemeralRaw, recipient.raw);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, recipient.id, ephemeralRaw, iv, cipher.getAuthTag(), ct].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(":");
}

/** The id of the public key a v2 envelope is sealed to; null for anything else. */
export function sealedKeyId(envelope: string): string | null {
  const parts = envelope.split(":");
  return parts.length === 6 && parts[0] === VERSION ? parts[1] : null;
}

export function openSealedSecret(envelope: string, keys: OpeningKey[], associatedData: string): string {
  const parts = envelope.split(":");
  if (parts.length !== 6 || parts[0] !== VERSION) throw new SecretDecryptError("Not a tlsfleet sealed envelope");
  const [, id, ephemeralB64, ivB64, tagB64, ctB64] = parts;
  const key = keys.find((k) => k.id === id);
  if (!key) throw new SecretDecryptError(`Secret was sealed to key ${id}, which this process does not hold (only workers load credential private keys)`);
  try {
    const ephemeralRaw = Buffer.from(ephemeralB64, "base64url");
    const ephemeral = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: ephemeralRaw.toString("base64url") }, format: "jwk" });
    const aesKey = derive(diffieHellman({ privateKey: key.privateKey, publicKey: ephemeral }), ephemeralRaw, key.raw);
    // authTagLength: Node otherwise accepts a tag cut down to 4 bytes, which weakens forgery bounds.
    const decipher = createDecipheriv("aes-256-gcm", aesKey, Buffer.from(ivB64, "base64url"), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(Buffer.from(tagB64, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ctB64, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretDecryptError("Secret failed authentication: wrong key, tampered ciphertext, or moved to another credential");
  }
}
