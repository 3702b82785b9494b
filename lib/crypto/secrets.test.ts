import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, makeKey, SecretDecryptError } from "./secrets";

const k1 = makeKey(randomBytes(32).toString("base64"));
const k2 = makeKey(randomBytes(32).toString("hex"));

describe("legacy v1 secret envelopes", () => {
  it("round-trips and never contains the plaintext", () => {
    const env = encryptSecret("hunter2-ssh-key-material", k1, "cred:1");
    expect(env).not.toContain("hunter2");
    expect(env.split(":")[1]).toBe(k1.id);
    expect(decryptSecret(env, [k2, k1], "cred:1")).toBe("hunter2-ssh-key-material");
  });
  it("uses a fresh IV each time", () => {
    expect(encryptSecret("x", k1)).not.toBe(encryptSecret("x", k1));
  });
  it("refuses a tampered ciphertext", () => {
    const parts = encryptSecret("secret", k1).split(":");
    const ct = Buffer.from(parts[4], "base64");
    ct[0] ^= 1;
    parts[4] = ct.toString("base64");
    expect(() => decryptSecret(parts.join(":"), [k1])).toThrow(SecretDecryptError);
  });
  it("refuses a secret moved to another record (associated data)", () => {
    expect(() => decryptSecret(encryptSecret("secret", k1, "cred:1"), [k1], "cred:2")).toThrow(/failed authentication/);
  });
  it("names the missing key during rotation", () => {
    expect(() => decryptSecret(encryptSecret("secret", k1), [k2])).toThrow(new RegExp(`key ${k1.id}`));
  });
  it("rejects keys of the wrong size", () => {
    expect(() => makeKey("abcd")).toThrow(/32 bytes/);
  });
});
