import { describe, expect, it } from "vitest";
import { quoteWindowsCmd } from "../transport/quote";
import type { ExecOptions, ExecResult, RemoteOs, RemoteSession } from "../transport/types";
import { isNewBoot, LINUX_BOOT_ID_ARGV, readBootIdentity, WINDOWS_LAST_BOOT_ARGV } from "./boot-identity";
import { PlaybookError } from "./types";

/** A RemoteSession stand-in that answers every command with one canned result and records what
 *  it was asked to run. */
function cannedSession(remoteOs: RemoteOs, answer: Partial<ExecResult>) {
  const calls: Array<{ argv: readonly string[]; opts: ExecOptions | undefined }> = [];
  const s: RemoteSession = {
    hostLabel: remoteOs === "linux" ? "mx1.example (198.18.0.10)" : "ex1.example (198.18.0.20)",
    kind: remoteOs === "linux" ? "ssh" : "winrm",
    remoteOs,
    exec: async (argv, opts) => {
      calls.push({ argv, opts });
      return { exitCode: 0, stdout: "", stderr: "", truncated: false, durationMs: 5, ...answer };
    },
    close: async () => undefined,
  };
  return { s, calls };
}

describe("readBootIdentity on Linux (/proc/sys/kernel/random/boot_id)", () => {
  it("returns the kernel's boot UUID, read with cat and a timeout", async () => {
    const { s, calls } = cannedSession("linux", { stdout: "48740bc0-cb0b-42e4-8c87-bbd72635fdc8\n" });
    expect(await readBootIdentity(s)).toBe("linux-boot:48740bc0-cb0b-42e4-8c87-bbd72635fdc8");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.argv).toEqual(["cat", "/proc/sys/kernel/random/boot_id"]);
    expect(calls[0]!.opts?.timeoutMs).toBe(30_000);
  });

  it.each([
    ["not a UUID", "hello\n"],
    ["empty output", ""],
    ["two UUIDs", "48740bc0-cb0b-42e4-8c87-bbd72635fdc8\n48740bc0-cb0b-42e4-8c87-bbd72635fdc9\n"],
    ["a shell banner before the UUID", "Welcome to mx1\n48740bc0-cb0b-42e4-8c87-bbd72635fdc8\n"],
  ])("refuses output that is not one UUID (%s), naming the host and what came back", async (_name, stdout) => {
    const { s } = cannedSession("linux", { stdout });
    const p = readBootIdentity(s);
    await expect(p).rejects.toBeInstanceOf(PlaybookError);
    await expect(p).rejects.toThrow(/boot id .* on mx1\.example \(198\.18\.0\.10\): expected a UUID, got /);
    await expect(p).rejects.toMatchObject({ hostLabel: "mx1.example (198.18.0.10)" });
  });

  it("refuses a non-zero exit code, quoting stderr", async () => {
    const { s } = cannedSession("linux", { exitCode: 1, stderr: "cat: /proc/sys/kernel/random/boot_id: No such file or directory\n" });
    await expect(readBootIdentity(s)).rejects.toThrow(
      'on mx1.example (198.18.0.10): `cat` exited with code 1: "cat: /proc/sys/kernel/random/boot_id: No such file or directory"',
    );
  });

  it("cuts what came back to about 200 characters", async () => {
    const { s } = cannedSession("linux", { stdout: "x".repeat(5000) });
    const err = await readBootIdentity(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookError);
    expect((err as Error).message.length).toBeLessThan(400);
    expect((err as Error).message).toContain(`${"x".repeat(200)}…`);
  });
});

describe("readBootIdentity on Windows (Win32_OperatingSystem.LastBootUpTime)", () => {
  it("parses PowerShell's round-trip UTC time with its CRLF", async () => {
    const { s, calls } = cannedSession("windows", { stdout: "2026-12-07T05:40:00.1234567Z\r\n" });
    expect(await readBootIdentity(s)).toBe("windows-boot:2026-12-07T05:40:00.1234567Z");
    expect(calls[0]!.argv).toEqual([
      "powershell.exe",
      "-NoProfile",
      "-NonInteractive",
      "-Command",
      "(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')",
    ]);
    expect(calls[0]!.opts?.timeoutMs).toBe(30_000);
  });

  it.each([
    ["local time with an offset (ToUniversalTime missing)", "2026-12-07T06:40:00.1234567+01:00\r\n"],
    ["the culture's default format", "12/7/2026 5:40:00 AM\r\n"],
    ["a CIM datetime string", "20261207054000.123456+060\r\n"],
    ["six fractional digits", "2026-12-07T05:40:00.123456Z\r\n"],
    ["an impossible date", "2026-13-07T05:40:00.1234567Z\r\n"],
  ])("refuses %s", async (_name, stdout) => {
    const { s } = cannedSession("windows", { stdout });
    await expect(readBootIdentity(s)).rejects.toThrow(/last boot time .* on ex1\.example \(198\.18\.0\.20\): expected a UTC time like 2026-12-07T05:40:00\.1234567Z, got "/);
  });

  it("refuses a PowerShell error (exit 1), showing its first 200 characters", async () => {
    const stderr =
      "Get-CimInstance : Access denied \r\nAt line:1 char:2\r\n+ (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUn ...\r\n" +
      "    + CategoryInfo          : PermissionDenied: (root\\cimv2:Win32_OperatingSystem:String) [Get-CimInstance], CimException\r\n";
    const { s } = cannedSession("windows", { exitCode: 1, stderr });
    const err = await readBootIdentity(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookError);
    expect((err as PlaybookError).hostLabel).toBe("ex1.example (198.18.0.20)");
    expect((err as Error).message).toMatch(/^Could not read the last boot time .* on ex1\.example \(198\.18\.0\.20\): `powershell\.exe` exited with code 1: "Get-CimInstance : Access denied/);
    expect((err as Error).message).toContain("…");
  });

  it("refuses a command stopped without an exit code", async () => {
    const { s } = cannedSession("windows", { exitCode: null, stdout: "2026-12-07T05:40:00.1234567Z\r\n" });
    await expect(readBootIdentity(s)).rejects.toThrow(/exited with code none/);
  });
});

describe("boot identity commands pass the transports' quoting", () => {
  it("the PowerShell script reaches cmd.exe with every metacharacter escaped", () => {
    expect(quoteWindowsCmd(WINDOWS_LAST_BOOT_ARGV)).toBe(
      "powershell.exe -NoProfile -NonInteractive -Command ^\"^(Get-CimInstance -ClassName Win32_OperatingSystem^).LastBootUpTime.ToUniversalTime^(^).ToString^('o'^)^\"",
    );
  });

  it("the Linux argv needs no quoting", () => {
    expect(LINUX_BOOT_ID_ARGV).toEqual(["cat", "/proc/sys/kernel/random/boot_id"]);
  });
});

describe("isNewBoot", () => {
  it.each([
    ["linux-boot:6a1b2c3d-0000-4000-8000-000000000001", "linux-boot:6a1b2c3d-0000-4000-8000-000000000002", true],
    ["linux-boot:6a1b2c3d-0000-4000-8000-000000000001", "linux-boot:6a1b2c3d-0000-4000-8000-000000000001", false],
    // Same boot, LastBootUpTime re-derived a little differently.
    ["windows-boot:2026-12-07T05:40:00.1234567Z", "windows-boot:2026-12-07T05:40:00.6234567Z", false],
    ["windows-boot:2026-12-07T05:40:00.1234567Z", "windows-boot:2026-12-07T05:41:30.0000000Z", true],
  ])("%s -> %s: %s", (a, b, want) => expect(isNewBoot(a, b)).toBe(want));
});
