import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH } from "./chain";
import { signCheckpoint, verifyCheckpoints, type SignedCheckpoint } from "./checkpoint";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");

function checkpoints(n: number): SignedCheckpoint[] {
  const out: SignedCheckpoint[] = [];
  for (let i = 1; i <= n; i++) {
    out.push(signCheckpoint({ number: i, at: new Date(Date.UTC(2026, 11, 7, i)), seq: BigInt(i * 10), hash: String(i).repeat(64).slice(0, 64), prevCheckpointHash: out.at(-1)?.checkpointHash ?? GENESIS_HASH }, privateKey));
  }
  return out;
}

describe("signed checkpoints", () => {
  it("verifies a checkpoint chain and returns what each claims", () => {
    const { claims, problem } = verifyCheckpoints(checkpoints(3), publicKey);
    expect(problem).toBeNull();
    expect(claims.map((c) => c.seq)).toEqual([10n, 20n, 30n]);
  });

  it("refuses an edited checkpoint", () => {
    const cps = checkpoints(3);
    cps[1] = { ...cps[1], seq: 5n };
    expect(verifyCheckpoints(cps, publicKey).problem).toMatchObject({ number: 2, message: expect.stringContaining("signature") });
  });

  it("refuses a deleted checkpoint in the middle", () => {
    const cps = checkpoints(3);
    cps.splice(1, 1);
    expect(verifyCheckpoints(cps, publicKey).problem).toMatchObject({ number: 3, message: expect.stringContaining("checkpoint 2 is missing") });
  });

  it("refuses a checkpoint signed by another key", () => {
    const other = generateKeyPairSync("ed25519");
    expect(verifyCheckpoints(checkpoints(1), other.publicKey).problem?.message).toMatch(/not by the key given/);
  });
});
