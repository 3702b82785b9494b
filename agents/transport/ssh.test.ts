// The pure parts of the SSH transport. Connecting, pinning, timeouts, output caps and dropped
// connections are tested against the lab's real sshd in tests/integration/playbooks-linux.test.ts.
import { describe, expect, it } from "vitest";
import { parseAllowList } from "../../lib/tls/allowlist";
import { HostKeyMismatchError, TransportError } from "./types";
import { HostKeyNotPinnedError, keyTypeOfBlob, normalizeFingerprint, openSshSession, sshFingerprint } from "./ssh";

// `ssh-keygen -t ed25519` then `ssh-keygen -lf k.pub` printed this pair.
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJll8ljr51YH40i5+L33Z6R7orpkq3x3XoHc6XVBkxk0 test";
const FINGERPRINT = "SHA256:7uCVkXhygAm/QRebpAih7ukxtXIYPHqOWqsCEml6GoA";

describe("sshFingerprint", () => {
  it("matches what ssh-keygen -l prints, from a public key line", () => {
    expect(sshFingerprint(PUBLIC_KEY)).toBe(FINGERPRINT);
  });

  it("matches from the raw key blob, as ssh2 hands it to hostVerifier", () => {
    const blob = Buffer.from(PUBLIC_KEY.split(" ")[1]!, "base64");
    expect(sshFingerprint(blob)).toBe(FINGERPRINT);
    expect(keyTypeOfBlob(blob)).toBe("ssh-ed25519");
  });

  it("refuses a line that is not a public key", () => {
    expect(() => sshFingerprint("not-a-key")).toThrow(/public key/);
  });

  it("reads no key type from garbage", () => {
    expect(keyTypeOfBlob(Buffer.from([0, 0, 0]))).toBe("unknown");
    expect(keyTypeOfBlob(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]))).toBe("unknown");
  });
});

describe("normalizeFingerprint", () => {
  it.each([
    [FINGERPRINT, FINGERPRINT],
    [`${FINGERPRINT}=`, FINGERPRINT],
    [`  ${FINGERPRINT}\n`, FINGERPRINT],
    ["MD5:3b:3c:aa:00", null],
    ["SHA256:short", null],
    [FINGERPRINT.replace("SHA256:", "sha256:"), null],
  ])("%j -> %j", (input, out) => {
    expect(normalizeFingerprint(input)).toBe(out);
  });
});

describe("openSshSession refuses before sending anything", () => {
  const credential = { kind: "ssh-password" as const, username: "root", password: "never-sent" };

  it("an unpinned host when the operation requires a pin", async () => {
    const err = await openSshSession({ host: "198.18.0.11", credential, requirePinned: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyNotPinnedError);
    expect((err as Error).message).toContain("on the host's page (Pinned host key)");
    expect((err as Error).message).not.toContain("never-sent");
  });

  it("a pin that is not an OpenSSH SHA256 fingerprint", async () => {
    const err = await openSshSession({ host: "198.18.0.11", credential, pinnedFingerprint: "MD5:aa:bb" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).not.toBeInstanceOf(HostKeyMismatchError);
    expect((err as TransportError).code).toBe("config");
  });

  it("a target outside the allowed ranges", async () => {
    const err = await openSshSession({ host: "192.0.2.10", credential, allowList: parseAllowList("198.18.0.0/15") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/outside the allowed targets.*no connection was made/);
  });
});
