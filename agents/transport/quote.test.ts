import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { commandLineToArgv, expandPercent, splitCommandLine } from "../../tests/lab/windows-double/cmd-parse";
import { quotePosix, quoteWindowsCmd, UnquotableArgumentError } from "./quote";

// Values an attacker-controlled host name, registry path or message could carry. Each must
// reach the program as exactly one argument, unchanged.
const HOSTILE = [
  "; rm -rf /",
  "& del /q C:\\Windows\\System32",
  "x && shutdown /s /t 0",
  "a || b",
  "| whoami",
  "> C:\\out.txt",
  "2>&1",
  "< C:\\in.txt",
  'a"b',
  '"',
  '""',
  '\\"',
  "%PATH%",
  "%PATH:~0,3%",
  "%PATH:a=b%",
  "%%",
  "%",
  "50%",
  "^",
  "a^b^",
  "(x)",
  "C:\\Program Files\\",
  "dir\\",
  "",
  "a b",
  "tab\there",
  "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Server",
  "zażółć gęślą jaźń",
  "'single'",
  "$(id) `id` $HOME",
  "*?[]{}~#",
];

describe("quotePosix", () => {
  // Ground truth: the real /bin/sh on this machine.
  function throughSh(values: string[]): string[] {
    const line = `${quotePosix(["set", "--", ...values])}; for a; do printf '%s\\000' "$a"; done`;
    const out = execFileSync("sh", ["-c", line], { encoding: "utf8" });
    return out.split("\0").slice(0, -1);
  }

  it.each(HOSTILE.map((v) => [v]))("passes %j to the program as one argument", (value) => {
    expect(throughSh([value, "next"])).toEqual([value, "next"]);
  });

  it("leaves plain words unquoted so logs stay readable", () => {
    expect(quotePosix(["postconf", "-e", "smtpd_tls_protocols=>=TLSv1.2"])).toBe("postconf -e 'smtpd_tls_protocols=>=TLSv1.2'");
    expect(quotePosix(["postconf", "-n"])).toBe("postconf -n");
  });

  it("refuses NUL bytes, which no shell can carry", () => {
    expect(() => quotePosix(["echo", "a\0b"])).toThrow(UnquotableArgumentError);
  });
});

describe("quoteWindowsCmd (checked with the cmd.exe + CommandLineToArgvW emulation of the Windows test double)", () => {
  const env = new Map([
    ["PATH", "C:\\Windows\\system32;C:\\Windows"],
    ["USERNAME", "Administrator"],
  ]);

  function throughCmd(line: string): { argv: string[]; commands: number; redirects: number } {
    const parsed = splitCommandLine(expandPercent(line, env));
    return {
      argv: commandLineToArgv(parsed.commands[0]!.text),
      commands: parsed.commands.length,
      redirects: parsed.commands.reduce((n, c) => n + c.redirects.length, 0),
    };
  }

  it.each(HOSTILE.map((v) => [v]))("passes %j to the program as one argument", (value) => {
    const line = quoteWindowsCmd(["reg.exe", "query", value, "/v", "Enabled"]);
    const r = throughCmd(line);
    expect(r.commands).toBe(1);
    expect(r.redirects).toBe(0);
    expect(r.argv).toEqual(["reg.exe", "query", value, "/v", "Enabled"]);
  });

  it("passes several hostile values side by side", () => {
    const values = ["& del x", '"', "%PATH%", "a\\", "\\\\server\\share\\", "; rm -rf /"];
    expect(throughCmd(quoteWindowsCmd(["shutdown", ...values])).argv).toEqual(["shutdown", ...values]);
  });

  it("the emulation itself catches injection: a naively joined line runs a second command", () => {
    // Negative control: if this did not split, the tests above would prove nothing.
    const naive = ["reg", "query", "HKLM\\x & del C:\\y"].join(" ");
    expect(throughCmd(naive).commands).toBe(2);
    expect(throughCmd("echo %PATH%").argv).toEqual(["echo", "C:\\Windows\\system32;C:\\Windows"]);
  });

  it("keeps ordinary registry commands readable", () => {
    expect(quoteWindowsCmd(["reg", "add", "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319", "/v", "SchUseStrongCrypto", "/t", "REG_DWORD", "/d", "1", "/f"])).toBe(
      "reg add HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 /v SchUseStrongCrypto /t REG_DWORD /d 1 /f",
    );
    expect(quoteWindowsCmd(["reg", "query", "HKLM\\A\\TLS 1.2\\Server"])).toBe('reg query ^"HKLM\\A\\TLS 1.2\\Server^"');
  });

  it.each([
    ["a line feed", "line1\nline2"],
    ["a carriage return", "a\rb"],
    ["a NUL", "a\0b"],
    ['"!" (delayed expansion)', "hello!"],
    ["fullwidth quote (best-fit maps it to \")", "a\uFF02b"],
  ])("refuses %s", (_what, value) => {
    expect(() => quoteWindowsCmd(["shutdown", "/c", value])).toThrow(UnquotableArgumentError);
  });

  it.each([["reg query"], ['"reg"'], ["C:\\Program Files\\x.exe"], ["reg&calc"], [""]])("refuses program %j", (program) => {
    expect(() => quoteWindowsCmd([program, "x"])).toThrow(UnquotableArgumentError);
  });
});
