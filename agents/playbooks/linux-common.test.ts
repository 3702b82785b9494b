import { spawn, spawnSync } from "node:child_process";
import fs, { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { quotePosix } from "../transport/quote";
import type { ExecOptions, ExecResult, RemoteSession } from "../transport/types";
import { narrowByLibrary, parseOpenSslPolicy, runBatch, summarizeSettings, type TlsVersion } from "./linux-common";
import { PlaybookError } from "./types";

/**
 * A session on this machine that does what sshd does with a command: hands the command line to
 * the user's shell (`sh -c LINE`). `rcNoise` is what a login shell's rc file prints to stdout
 * first (the lab's root ~/.bashrc initialises pyenv, a real server's may print anything).
 */
function localSession(rcNoise = ""): RemoteSession & { calls: number } {
  const session = {
    hostLabel: "local",
    kind: "ssh" as const,
    remoteOs: "linux" as const,
    calls: 0,
    close: async () => undefined,
    exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
      session.calls += 1;
      const line = `${rcNoise ? `printf '%s' ${quotePosix([rcNoise])}; ` : ""}${quotePosix(argv)}`;
      return new Promise((resolve, reject) => {
        const child = spawn("sh", ["-c", line], { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", reject);
        child.on("close", (code) =>
          resolve({ exitCode: code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), truncated: false, durationMs: 0 }),
        );
        child.stdin.end(opts.stdin ?? "");
      });
    },
  };
  return session;
}

describe("runBatch", () => {
  it("runs every step in one shell and returns each step's own exit code, stdout and stderr, byte for byte", async () => {
    const s = localSession();
    const ran = await runBatch(s, [
      ["printf", "%s", "one\ntwo\n\n"],
      ["sh", "-c", 'printf "%s" "$1" >&2; exit 3', "sh", "to stderr: ünïcödé 'quoted' $HOME `x`"],
      ["printf", ""],
      ["tlsfleet-no-such-program"],
    ]);
    expect(s.calls).toBe(1);
    expect(ran.map((r) => r.exitCode)).toEqual([0, 3, 0, 127]);
    expect(ran[0]!.stdout).toBe("one\ntwo\n\n");
    expect(ran[1]!.stderr).toBe("to stderr: ünïcödé 'quoted' $HOME `x`");
    expect(ran[1]!.stdout).toBe("");
    expect(ran[2]!).toMatchObject({ stdout: "", stderr: "" });
    expect(ran[3]!.argv).toEqual(["tlsfleet-no-such-program"]);
  });

  it("stops at the first failing gate; later steps never run", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfleet-batch-"));
    const marker = path.join(dir, "ran");
    try {
      const ran = await runBatch(localSession(), [["true"], ["false"], ["touch", marker]], { stopOnFailure: true });
      expect(ran.map((r) => r.exitCode)).toEqual([0, 1]);
      expect(fs.existsSync(marker)).toBe(false);

      // Only the first two are gates: the third runs after a failing second... no: the second
      // passes, the third fails and is not a gate, the fourth still runs.
      const partial = await runBatch(localSession(), [["true"], ["true"], ["false"], ["touch", marker]], { stopOnFailure: 2 });
      expect(partial.map((r) => r.exitCode)).toEqual([0, 0, 1, 0]);
      expect(fs.existsSync(marker)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is not confused by a login shell that prints to stdout, even lines that look like its frames", async () => {
    const s = localSession("pyenv: cannot rehash\n@@tlsfleet-step 1 0 Z2FyYmFnZQ== \n");
    const ran = await runBatch(s, [["echo", "value"]]);
    expect(ran).toHaveLength(1);
    expect(ran[0]!.stdout).toBe("value\n");
  });

  it("encodes every step's output with one base64 for the whole batch, not one per step (host CPU per check)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfleet-batch-"));
    const counter = path.join(dir, "count");
    const wrapper = path.join(dir, "base64");
    const real = spawnSync("sh", ["-c", "command -v base64"], { encoding: "utf8" }).stdout.trim();
    fs.writeFileSync(wrapper, `#!/bin/sh\necho x >> ${quotePosix([counter])}\nexec ${quotePosix([real])} "$@"\n`, { mode: 0o755 });
    const previous = process.env.PATH;
    process.env.PATH = `${dir}:${previous}`;
    try {
      const steps = Array.from({ length: 11 }, (_, i) => ["printf", "%s\\n", `step ${i + 1} \u00e9`]);
      const ran = await runBatch(localSession(), steps);
      expect(ran.map((r) => r.stdout)).toEqual(steps.map((_, i) => `step ${i + 1} \u00e9\n`));
      expect(fs.readFileSync(counter, "utf8").trim().split("\n")).toHaveLength(1);
    } finally {
      process.env.PATH = previous;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("returns the outputs of the steps that ran up to a failing gate, byte for byte, even empty and binary ones", async () => {
    const ran = await runBatch(
      localSession(),
      [["printf", "a\\000b\\377"], ["printf", ""], ["sh", "-c", "printf 'no\\n' >&2; exit 4"], ["printf", "never"]],
      { stopOnFailure: true },
    );
    expect(ran.map((r) => r.exitCode)).toEqual([0, 0, 4]);
    expect(Buffer.from(ran[0]!.stdout, "utf8").includes(Buffer.from("a\u0000b"))).toBe(true);
    expect(ran[1]).toMatchObject({ stdout: "", stderr: "" });
    expect(ran[2]).toMatchObject({ stdout: "", stderr: "no\n" });
  });

  it("says how far it got when the shell itself dies midway", async () => {
    const err = await runBatch(localSession(), [["true"], ["sh", "-c", "kill -9 $PPID"], ["true"]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookError);
    expect((err as Error).message).toMatch(/A batch of 3 commands on local stopped after 1 \(next: `sh -c kill -9 \$PPID`\)/);
  });
});

describe("the OpenSSL library's own policy (docs/domain.md)", () => {
  const debian12 = { argv: ["sh"], exitCode: 0, stdout: readFileSync(new URL("./testdata/openssl-policy-debian12.out", import.meta.url), "utf8"), stderr: "" };
  // Debian 11's openssl.cnf as the package ships it (quoted, not captured here): the section chain
  // openssl_conf -> ssl_conf -> system_default.
  const debian11 = {
    ...debian12,
    stdout: `OpenSSL 3.0.11 19 Sep 2023 (Library: OpenSSL 3.0.11 19 Sep 2023)\nOPENSSLDIR=/usr/lib/ssl\nopenssl_conf = default_conf\n[ default_conf ]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\nMinProtocol = TLSv1.2\nCipherString = DEFAULT@SECLEVEL=2\n`,
  };
  const ALL: TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

  it("reads Debian 12's stock openssl.cnf: OpenSSL 3.0, no system_default section, so the build's level applies", () => {
    expect(parseOpenSslPolicy(debian12)).toEqual({ version: "3.0.22", configFile: "/usr/lib/ssl/openssl.cnf", minProtocol: null, cipherString: null, securityLevel: null, notes: [] });
  });
  it("follows openssl_conf -> ssl_conf -> system_default for MinProtocol and the CipherString's @SECLEVEL", () => {
    expect(parseOpenSslPolicy(debian11)).toMatchObject({ minProtocol: "TLSv1.2", cipherString: "DEFAULT@SECLEVEL=2", securityLevel: 2 });
  });
  it("is null when openssl is not installed (exit 127), and nothing is narrowed then", () => {
    expect(parseOpenSslPolicy({ ...debian12, exitCode: 127, stdout: "" })).toBeNull();
    expect(narrowByLibrary(ALL, null, null)).toEqual({ enabled: ALL });
  });
  it("OpenSSL 3 refuses TLS 1.0/1.1 unless the application's cipher list or openssl.cnf says @SECLEVEL=0", () => {
    const p = parseOpenSslPolicy(debian12)!;
    expect(narrowByLibrary(ALL, "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", p)).toEqual({ enabled: ["TLSv1.2", "TLSv1.3"], library: expect.stringMatching(/^OpenSSL 3.0.22 refuses TLS 1.0\/1.1 at security level 1\+ \(the library default\)/) });
    expect(narrowByLibrary(ALL, "ALL:@SECLEVEL=0", p)).toEqual({ enabled: ALL });
    expect(narrowByLibrary(ALL, "ALL:@SECLEVEL=0:@SECLEVEL=1", p).enabled).toEqual(["TLSv1.2", "TLSv1.3"]);
    expect(narrowByLibrary(ALL, null, { ...p, cipherString: "DEFAULT:@SECLEVEL=0", securityLevel: 0 })).toEqual({ enabled: ALL });
    expect(narrowByLibrary(ALL, null, parseOpenSslPolicy(debian11)!).library).toMatch(/security level 2 \(\/usr\/lib\/ssl\/openssl.cnf CipherString\)/);
  });
  it("narrows nothing it cannot vouch for: OpenSSL 1.1, an unread cipher list, a setting without legacy", () => {
    const p = parseOpenSslPolicy(debian12)!;
    expect(narrowByLibrary(ALL, null, { ...p, version: "1.1.1" })).toEqual({ enabled: ALL });
    expect(narrowByLibrary(ALL, undefined, p)).toEqual({ enabled: ALL });
    expect(narrowByLibrary(["TLSv1.2"], null, p)).toEqual({ enabled: ["TLSv1.2"] });
  });
});

describe("summarizeSettings per direction", () => {
  const s = (direction: "inbound" | "outbound", setting: string, value: string, enabled: TlsVersion[]) => ({ scope: "main.cf", setting, value, source: "explicit" as const, direction, enabled });
  it("keeps the server and the client side apart, and marks a side without TLS", () => {
    const r = summarizeSettings([s("inbound", "smtpd_tls_protocols", ">=TLSv1.2", ["TLSv1.2", "TLSv1.3"]), s("outbound", "smtp_tls_protocols", ">=TLSv1", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])]);
    expect(r.legacyEnabled).toBe(true);
    expect(r.sides).toEqual([
      { direction: "inbound", legacyEnabled: false, tls12Enabled: true, summary: "TLS 1.0/1.1 off, TLS 1.2 on in all 1 settings (main.cf: smtpd_tls_protocols = >=TLSv1.2)" },
      { direction: "outbound", legacyEnabled: true, tls12Enabled: true, summary: "TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1" },
    ]);
    expect(summarizeSettings([s("inbound", "smtpd_tls_protocols", ">=TLSv1.2", ["TLSv1.2"])], undefined, { outbound: "smtp_tls_security_level = none" }).sides[1]).toEqual({
      direction: "outbound",
      legacyEnabled: false,
      tls12Enabled: false,
      tlsOffered: false,
      summary: "smtp_tls_security_level = none",
    });
  });
});
