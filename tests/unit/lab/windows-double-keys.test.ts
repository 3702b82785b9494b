import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ssh2 from "ssh2";
import { afterAll, describe, expect, it } from "vitest";
import { ensureKeyPair } from "../../lab/windows-double/main";

// ssh2's own generator made about one unparseable key in 256 (mscdex/ssh2#1513); 400 keys from
// it fail this test with probability ~0.96. The double's keys must parse every time.
describe("windows double SSH keys", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "double-keys-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("every generated ed25519 key pair parses (private and public)", () => {
    const failures: string[] = [];
    for (let i = 0; i < 200; i++) {
      const file = path.join(dir, `k${i}`);
      ensureKeyPair(file, "test");
      for (const f of [file, `${file}.pub`]) {
        const parsed = ssh2.utils.parseKey(readFileSync(f, "utf8"));
        if (parsed instanceof Error) failures.push(`${f}: ${parsed.message}`);
      }
    }
    expect(failures).toEqual([]);
    // 200 ssh-keygen runs: ~3 s alone, far longer on a loaded machine; CPU-bound, not a hang.
  }, 120_000);

  it("keeps an existing pair instead of replacing it", () => {
    const file = path.join(dir, "kept");
    ensureKeyPair(file, "test");
    const first = readFileSync(`${file}.pub`, "utf8");
    ensureKeyPair(file, "test");
    expect(readFileSync(`${file}.pub`, "utf8")).toBe(first);
  });
});
