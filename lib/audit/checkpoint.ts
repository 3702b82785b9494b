// Signed checkpoints of the audit chain (pure: no database, no files). A checkpoint says "event
// `seq` has hash `hash`" at a time, links to the previous checkpoint by its hash (as each
// CloudTrail digest file carries the previous one's), and is signed with Ed25519. Anyone with the
// public key can check it offline (`tlsfleet audit verify --file`).
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { canonicalJson, GENESIS_HASH, type CheckpointClaim } from "./chain";

export const CHECKPOINT_VERSION = 1;

export interface UnsignedCheckpoint {
  number: number;
  at: Date;
  seq: bigint;
  hash: string;
  prevCheckpointHash: string;
  keyId: string;
}

export interface SignedCheckpoint extends UnsignedCheckpoint {
  signature: string; // base64, Ed25519 over checkpointBody()
  checkpointHash: string; // sha256 hex of checkpointBody()
}

/** The exact bytes that are signed and hashed. */
export function checkpointBody(c: UnsignedCheckpoint): string {
  return canonicalJson({ v: CHECKPOINT_VERSION, number: c.number, at: c.at.toISOString(), seq: c.seq.toString(), hash: c.hash, prevCheckpointHash: c.prevCheckpointHash, keyId: c.keyId });
}

/** A short, stable name of a public key: the first 16 hex digits of sha256 over its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

export function signCheckpoint(c: Omit<UnsignedCheckpoint, "keyId">, privateKey: KeyObject): SignedCheckpoint {
  const unsigned = { ...c, keyId: keyIdOf(createPublicKey(privateKey)) };
  const body = Buffer.from(checkpointBody(unsigned));
  return { ...unsigned, signature: sign(null, body, privateKey).toString("base64"), checkpointHash: createHash("sha256").update(body).digest("hex") };
}

export interface CheckpointProblem {
  number: number;
  message: string;
}

/**
 * Checks signatures, hashes and the checkpoint chain (numbers 1, 2, 3, ... each naming the
 * previous one's hash). Returns the verified claims and the first problem, if any.
 */
export function verifyCheckpoints(checkpoints: SignedCheckpoint[], publicKey: KeyObject): { claims: CheckpointClaim[]; problem: CheckpointProblem | null } {
  const sorted = [...checkpoints].sort((a, b) => a.number - b.number);
  const keyId = keyIdOf(publicKey);
  const claims: CheckpointClaim[] = [];
  let prevHash = GENESIS_HASH;
  let expected = 1;
  for (const c of sorted) {
    const fail = (message: string) => ({ claims, problem: { number: c.number, message: `checkpoint ${c.number} (${c.at.toISOString()}): ${message}` } });
    if (c.number !== expected) return fail(expected === 1 ? "checkpoints before it are missing" : `checkpoint ${expected} is missing`);
    const body = Buffer.from(checkpointBody(c));
    if (c.keyId !== keyId) return fail(`signed by key ${c.keyId}, not by the key given (${keyId})`);
    if (!verify(null, body, publicKey, Buffer.from(c.signature, "base64"))) return fail("the signature does not match its content (edited or forged)");
    if (createHash("sha256").update(body).digest("hex") !== c.checkpointHash) return fail("its stored hash does not match its content");
    if (c.prevCheckpointHash !== prevHash) return fail(`it does not follow checkpoint ${c.number - 1}`);
    claims.push({ number: c.number, at: c.at, seq: c.seq, hash: c.hash });
    prevHash = c.checkpointHash;
    expected++;
  }
  return { claims, problem: null };
}
