import { describe, expect, it } from "vitest";
import { generateSealingKeyPair, openSealedSecret, parseOpeningKey, parseSealingKey, sealedKeyId, sealingKeyOf, sealSecret } from "./sealed-box";
import { SecretDecryptError } from "./secrets";

const pair = generateSealingKeyPair();
const recipient = parseSealingKey(pair.publicKey);
const opener = parseOpeningKey(pair.privateKeyPem);
const other = parseOpeningKey(generateSealingKeyPair().privateKeyPem);
const AAD = JSON.stringify(["tlsfleet.credential", "3f0c", "winrm_ntlm", "CONTOSO\\svc-tls"]);

function tamper(envelope: string, field: number): string {
  const parts = envelope.split(":");
  const bytes = Buffer.from(parts[field], "base64url");
  bytes[0] ^= 1;
  parts[field] = bytes.toString("base64url");
  return parts.join(":");
}

describe("sealed credential envelopes (X25519 + HKDF + AES-256-GCM)", () => {
  it("opens with the private key, names the key, never contains the plaintext", () => {
    const envelope = sealSecret("Winrm-Pa55word", recipient, AAD);
    expect(envelope).not.toContain("Winrm-Pa55word");
    expect(sealedKeyId(envelope)).toBe(recipient.id);
    expect(opener.id).toBe(recipient.id);
    expect(openSealedSecret(envelope, [other, opener], AAD)).toBe("Winrm-Pa55word");
  });

  it("uses a fresh ephemeral key and IV for every secret", () => {
    const [a, b] = [sealSecret("x", recipient, AAD), sealSecret("x", recipient, AAD)].map((e) => e.split(":"));
    expect(a[2]).not.toBe(b[2]);
    expect(a[3]).not.toBe(b[3]);
  });

  it("derives the public key from the private key", () => {
    expect(sealingKeyOf(opener).raw.equals(recipient.raw)).toBe(true);
  });

  it.each([
    ["another credential id", JSON.stringify(["tlsfleet.credential", "9a11", "winrm_ntlm", "CONTOSO\\svc-tls"])],
    ["another kind", JSON.stringify(["tlsfleet.credential", "3f0c", "winrm_basic", "CONTOSO\\svc-tls"])],
    ["a changed username", JSON.stringify(["tlsfleet.credential", "3f0c", "winrm_ntlm", "CONTOSO\\administrator"])],
  ])("refuses the envelope bound to %s", (_what, aad) => {
    expect(() => openSealedSecret(sealSecret("s", recipient, AAD), [opener], aad)).toThrow(/failed authentication/);
  });

  it("refuses to open with the wrong private key, naming the key it needs", () => {
    const envelope = sealSecret("s", recipient, AAD);
    expect(() => openSealedSecret(envelope, [other], AAD)).toThrow(new RegExp(`sealed to key ${recipient.id}`));
    // The key id is only a label: relabelled for the wrong key, authentication still fails.
    const relabelled = envelope.split(":");
    relabelled[1] = other.id;
    expect(() => openSealedSecret(relabelled.join(":"), [other], AAD)).toThrow(/failed authentication/);
  });

  it.each([
    [2, "ephemeral public key"],
    [3, "IV"],
    [4, "tag"],
    [5, "ciphertext"],
  ])("refuses a tampered envelope (field %i, %s)", (field) => {
    expect(() => openSealedSecret(tamper(sealSecret("secret", recipient, AAD), field), [opener], AAD)).toThrow(SecretDecryptError);
  });

  it("refuses a truncated authentication tag", () => {
    const parts = sealSecret("secret", recipient, AAD).split(":");
    parts[4] = Buffer.from(parts[4], "base64url").subarray(0, 4).toString("base64url");
    expect(() => openSealedSecret(parts.join(":"), [opener], AAD)).toThrow(SecretDecryptError);
  });

  it("refuses anything that is not a v2 envelope, and malformed public keys", () => {
    expect(sealedKeyId("v1:abcd:iv:tag:ct")).toBeNull();
    expect(() => openSealedSecret("v1:abcd:iv:tag:ct", [opener], AAD)).toThrow(/Not a tlsfleet sealed envelope/);
    expect(() => parseSealingKey("abcd")).toThrow(/32 bytes/);
  });
});
