import { describe, expect, it } from "vitest";
import type { ExecResult, RemoteSession } from "../transport/types";
import { normalizeKeyPath, parseRegQuery, regAddDwordArgv, regQuery, RegistrySnapshot } from "./reg-exe";

const TLS12 = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2";

// Literal reg.exe output in the format docs/architecture.md "Windows registry reads" documents (CRLF, root spelled out, four-space
// separators, DWORDs in lowercase hex).
const cases: Array<[string, string, Array<{ path: string; values: Array<[string, string, string, number | null]> }>, number]> = [
  [
    "one key, /v",
    `\r\n${TLS12}\\Server\r\n    Enabled    REG_DWORD    0x1\r\n\r\n`,
    [{ path: `${TLS12}\\Server`, values: [["Enabled", "REG_DWORD", "0x1", 1]] }],
    0,
  ],
  [
    "/s with a key without values, and two value blocks",
    `\r\n${TLS12}\r\n${TLS12}\\Client\r\n    DisabledByDefault    REG_DWORD    0x0\r\n    Enabled    REG_DWORD    0x1\r\n\r\n${TLS12}\\Server\r\n    DisabledByDefault    REG_DWORD    0x1\r\n    Enabled    REG_DWORD    0x0\r\n\r\n`,
    [
      { path: TLS12, values: [] },
      { path: `${TLS12}\\Client`, values: [["DisabledByDefault", "REG_DWORD", "0x0", 0], ["Enabled", "REG_DWORD", "0x1", 1]] },
      { path: `${TLS12}\\Server`, values: [["DisabledByDefault", "REG_DWORD", "0x1", 1], ["Enabled", "REG_DWORD", "0x0", 0]] },
    ],
    0,
  ],
  [
    "values then the subkey listing (query without /s)",
    "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319\r\n    SchUseStrongCrypto    REG_DWORD    0x1\r\n\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319\\SKUs\r\n",
    [
      { path: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319", values: [["SchUseStrongCrypto", "REG_DWORD", "0x1", 1]] },
      { path: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319\\SKUs", values: [] },
    ],
    0,
  ],
  [
    "strings with spaces, empty data, (Default), 0xffffffff, multi-string, QWORD",
    "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\X\r\n    (Default)    REG_SZ    \r\n    ProductName    REG_SZ    Windows Server 2012 R2 Standard\r\n    Enabled    REG_DWORD    0xffffffff\r\n    PendingFileRenameOperations    REG_MULTI_SZ    \\??\\C:\\a\\0\\??\\C:\\b\r\n    InstallTime    REG_QWORD    0x1d9f1c0a2b3c4d5\r\n\r\n",
    [
      {
        path: "HKEY_LOCAL_MACHINE\\SOFTWARE\\X",
        values: [
          ["", "REG_SZ", "", null],
          ["ProductName", "REG_SZ", "Windows Server 2012 R2 Standard", null],
          ["Enabled", "REG_DWORD", "0xffffffff", 0xffffffff],
          ["PendingFileRenameOperations", "REG_MULTI_SZ", "\\??\\C:\\a\\0\\??\\C:\\b", null],
          ["InstallTime", "REG_QWORD", "0x1d9f1c0a2b3c4d5", Number(0x1d9f1c0a2b3c4d5n)],
        ],
      },
    ],
    0,
  ],
  [
    "LF line ends and an End of search line",
    `\n${TLS12}\\Server\n    Enabled    REG_DWORD    0x0\n\nEnd of search: 1 match(es) found.\n`,
    [{ path: `${TLS12}\\Server`, values: [["Enabled", "REG_DWORD", "0x0", 0]] }],
    0,
  ],
  [
    "garbage and malformed values are kept aside, never read as values",
    `\r\n    Enabled    REG_DWORD    0x1\r\n${TLS12}\\Server\r\n    Enabled    REG_DWORD    0xZZ\r\n    Enabled REG_DWORD 0x1\r\nnonsense\r\n`,
    [{ path: `${TLS12}\\Server`, values: [] }],
    4,
  ],
];

describe("parseRegQuery", () => {
  it.each(cases)("%s", (_name, stdout, expected, unparsedCount) => {
    const parsed = parseRegQuery(stdout);
    expect(parsed.keys.map((k) => ({ path: k.path, values: k.values.map((v) => [v.name, v.type, v.data, v.number]) }))).toEqual(expected);
    expect(parsed.unparsed).toHaveLength(unparsedCount);
  });

  it("handles an empty answer", () => {
    expect(parseRegQuery("")).toEqual({ keys: [], unparsed: [] });
  });
});

describe("RegistrySnapshot", () => {
  const snap = new RegistrySnapshot(parseRegQuery(cases[1]![1]).keys);
  it("looks keys up case-insensitively and with the HKLM abbreviation", () => {
    expect(snap.dword("hklm\\system\\currentcontrolset\\control\\securityproviders\\schannel\\protocols\\tls 1.2\\server", "enabled")).toEqual({ value: 0, wrongType: null });
    expect(snap.hasKey("HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\")).toBe(true);
  });
  it("reports absent values as null and other types as wrong", () => {
    expect(snap.dword(`${TLS12}\\Server`, "Missing")).toEqual({ value: null, wrongType: null });
    const s2 = new RegistrySnapshot(parseRegQuery(`\r\n${TLS12}\\Server\r\n    Enabled    REG_SZ    1\r\n\r\n`).keys);
    expect(s2.dword(`${TLS12}\\Server`, "Enabled")).toEqual({ value: null, wrongType: "REG_SZ" });
  });
  it("a bare subkey listing line does not hide the block with values", () => {
    const s3 = new RegistrySnapshot([
      { path: `${TLS12}\\Server`, values: [{ name: "Enabled", type: "REG_DWORD", data: "0x1", number: 1 }] },
      { path: `${TLS12}\\Server`, values: [] },
    ]);
    expect(s3.dword(`${TLS12}\\Server`, "Enabled").value).toBe(1);
  });
});

describe("reg argv builders", () => {
  it("normalizes key paths", () => {
    expect(normalizeKeyPath("HKLM\\A\\B\\")).toBe("hkey_local_machine\\a\\b");
  });
  it("writes DWORDs in decimal with /f and refuses out-of-range data", () => {
    expect(regAddDwordArgv("HKLM\\K", "Enabled", 4294967295)).toEqual(["reg", "add", "HKLM\\K", "/v", "Enabled", "/t", "REG_DWORD", "/d", "4294967295", "/f"]);
    expect(() => regAddDwordArgv("HKLM\\K", "Enabled", -1)).toThrow(RangeError);
    expect(() => regAddDwordArgv("HKLM\\K", "Enabled", 2 ** 32)).toThrow(RangeError);
  });
});

describe("hostile reg query output", () => {
  it("normalizes a key path with a long run of backslashes in linear time (a trailing-run RegExp was quadratic)", () => {
    const path = `HKEY_LOCAL_MACHINE\\SYSTEM\\X${"\\".repeat(200_000)}Y`;
    const started = performance.now();
    const snap = new RegistrySnapshot(parseRegQuery(`${path}\r\n    Enabled    REG_DWORD    0x1\r\n`).keys);
    expect(snap.dword(path, "Enabled").value).toBe(1);
    expect(normalizeKeyPath("HKLM\\SYSTEM\\X\\\\")).toBe("hkey_local_machine\\system\\x");
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("reads a value line with thousands of REG_ look-alikes and a stray CR in linear time", () => {
    const line = `    Name${"    REG_MULTI_SZ  ".repeat(20_000)}\r x`;
    const started = performance.now();
    const parsed = parseRegQuery(`${TLS12}\r\n${line}\r\n`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(parsed.keys[0]!.values).toHaveLength(1);
  });
});

// Literal reg.exe answers per key (exit code, stdout, stderr); anything else is an unknown key.
function session(answers: Record<string, [number, string, string]>, seen: string[][] = []): RemoteSession {
  return {
    hostLabel: "ex1 (198.18.0.20)",
    kind: "winrm",
    remoteOs: "windows",
    exec: (argv: readonly string[]) => {
      seen.push([...argv]);
      const [exitCode, stdout, stderr] = answers[argv[2]!] ?? [1, "", "?"];
      return Promise.resolve({ exitCode, stdout, stderr } as ExecResult);
    },
    close: () => Promise.resolve(),
  } as RemoteSession;
}

describe("regQuery: absent keys without reading reg.exe's (localised) message", () => {
  const PL = "BŁĄD: System nie może odnaleźć określonego klucza rejestru lub wartości.\r\n";
  const NET = "HKLM\\SOFTWARE\\Microsoft\\.NETFramework";
  const listing = `\r\n${NET.replace("HKLM", "HKEY_LOCAL_MACHINE")}\\v4.0.30319\r\n`;

  it("a key its parent does not list is absent, whatever language stderr is in; the 64-bit view is read", async () => {
    const seen: string[][] = [];
    const s = session({ [`${NET}\\v2.0.50727`]: [1, "", PL], [NET]: [0, listing, ""] }, seen);
    const r = await regQuery(s, `${NET}\\v2.0.50727`);
    expect(r.found).toBe(false);
    expect(seen).toEqual([
      ["reg", "query", `${NET}\\v2.0.50727`, "/reg:64"],
      ["reg", "query", NET, "/reg:64"],
    ]);
  });

  it("an absent parent makes the key absent (walked up to a key that exists)", async () => {
    const wow = "HKLM\\SOFTWARE\\Wow6432Node";
    const s = session({ [`${wow}\\Microsoft\\.NETFramework\\v4.0.30319`]: [1, "", PL], [`${wow}\\Microsoft\\.NETFramework`]: [1, "", PL], [`${wow}\\Microsoft`]: [1, "", PL], [wow]: [1, "", PL], "HKLM\\SOFTWARE": [0, "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\r\n", ""] });
    expect((await regQuery(s, `${wow}\\Microsoft\\.NETFramework\\v4.0.30319`)).found).toBe(false);
  });

  it("exit code 1 for a key the parent lists (access denied) is an error, not absence", async () => {
    const s = session({ [`${NET}\\v4.0.30319`]: [1, "", "BŁĄD: Odmowa dostępu.\r\n"], [NET]: [0, listing, ""] });
    await expect(regQuery(s, `${NET}\\v4.0.30319`)).rejects.toThrow(/exit code 1.*Odmowa dostępu/);
  });

  it("exit code 1 with output on stdout is an error", async () => {
    const s = session({ [`${NET}\\v2.0.50727`]: [1, "something", ""], [NET]: [0, listing, ""] });
    await expect(regQuery(s, `${NET}\\v2.0.50727`)).rejects.toThrow(/failed on ex1/);
  });
});
