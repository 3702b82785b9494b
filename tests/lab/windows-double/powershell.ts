// TEST DOUBLE: powershell.exe (Windows PowerShell 5.1), for exactly two scripts: the machine's last
// boot time, as tlsfleet reads it to tell one boot from the next (agents/playbooks/boot-identity.ts),
// and tlsfleet's outbound check script (outbound-client.ts), which makes a real connection.
//
// What is followed:
// - Command line (Microsoft Learn "about_PowerShell_exe", 5.1): parameter names are
//   case-insensitive; -Command must be the last parameter and everything after it, joined with
//   spaces, is the script; an argument that is not a parameter begins the script (-Command is
//   the default). -EncodedCommand takes the script as Base64 of its UTF-16LE bytes. The double
//   knows -NoProfile, -NonInteractive, -NoLogo, -Command and -EncodedCommand only (no
//   abbreviations).
// - The script `(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
//   .ToUniversalTime().ToString('o')` (Microsoft Learn "Win32_OperatingSystem class",
//   LastBootUpTime; "Standard date and time format strings", the round-trip "O"/"o" specifier):
//   yyyy-MM-ddTHH:mm:ss.fffffffZ for a UTC DateTime, then CRLF, exit 0. CIM datetimes carry
//   microseconds, so the seventh digit is 0 on real hosts; the double's boot time has
//   milliseconds, so the last four are 0. Cmdlet, class, property and method names and the
//   format specifier are case-insensitive in PowerShell, so the match is too.
// - The outbound check script: see outbound-client.ts for how it is recognised and run.
// - Anything else is not emulated and is refused loudly, as PowerShell reports a command it
//   cannot find (CommandNotFoundException on stderr, exit 1 because the last command failed),
//   and the script is logged as `powershell-unsupported` so a test sees what it asked for.

import { recognizeOutboundScript, runOutboundScript, type OutboundScript } from "./outbound-client";
import type { SchannelVersion } from "./schannel";

export const LAST_BOOT_SCRIPT = "(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')";

const SWITCHES = new Set(["-noprofile", "-noninteractive", "-nologo"]);

export interface PowerShellResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The script PowerShell would have run; null when the command line had none. */
  script: string | null;
  supported: boolean;
}

/** .NET DateTime.ToString("o") of a UTC instant, from a millisecond-precision Date. */
export function roundTripUtc(d: Date): string {
  return d.toISOString().replace(/Z$/, "0000Z");
}

export interface PowerShellHost {
  bootedAt: Date | null;
  /** What a 64-bit .NET 4.x application's outbound TLS offers as of the last boot. */
  dotNetClientVersions: readonly SchannelVersion[];
  signal: AbortSignal;
}

/** The script on the command line: after -Command (joined with spaces), or -EncodedCommand's
 *  Base64 decoded as UTF-16LE; null when there is none. */
export function scriptOf(args: readonly string[]): string | null {
  let i = 0;
  while (i < args.length && SWITCHES.has(args[i]!.toLowerCase())) i++;
  if (i < args.length && args[i]!.toLowerCase() === "-encodedcommand") {
    const encoded = args[i + 1] ?? "";
    return /^[A-Za-z0-9+/]*={0,2}$/.test(encoded) ? Buffer.from(encoded, "base64").toString("utf16le") : "";
  }
  if (i < args.length && args[i]!.toLowerCase() === "-command") i++;
  return i < args.length ? args.slice(i).join(" ") : null;
}

/** argv as CommandLineToArgvW split it (argv[0] is the program). */
export async function runPowerShell(argv: readonly string[], host: PowerShellHost): Promise<PowerShellResult & { outbound: OutboundScript | null }> {
  const script = scriptOf(argv.slice(1));

  if (script !== null && script.trim().toLowerCase() === LAST_BOOT_SCRIPT.toLowerCase() && host.bootedAt !== null) {
    return { stdout: `${roundTripUtc(host.bootedAt)}\r\n`, stderr: "", exitCode: 0, script, supported: true, outbound: null };
  }
  const outbound = script === null ? null : recognizeOutboundScript(script);
  if (outbound) {
    const stdout = await runOutboundScript(outbound, { versions: host.dotNetClientVersions, signal: host.signal });
    return { stdout, stderr: "", exitCode: 0, script, supported: true, outbound };
  }
  if (script === null || script.trim() === "") {
    // Real powershell.exe would start an interactive session on stdin; the double does not.
    return {
      stdout: "",
      stderr: "The Windows test double emulates powershell.exe only with -Command or -EncodedCommand and the two scripts it knows.\r\n",
      exitCode: 1,
      script,
      supported: false,
      outbound: null,
    };
  }
  return { stdout: "", stderr: commandNotFound(script), exitCode: 1, script, supported: false, outbound: null };
}

/** PowerShell 5.1's error record for an unknown command, as the console host prints it. */
function commandNotFound(script: string): string {
  const line = script.split(/\r?\n/)[0]!;
  const m = /[^\s(){};|&$]+/.exec(line.replace(/^[\s(&$]+/, (p) => " ".repeat(p.length)));
  const term = m?.[0] ?? line.trim();
  const at = m ? m.index : 0;
  return (
    `${term} : The term '${term}' is not recognized as the name of a cmdlet, function, script file, or operable program. ` +
    `Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\r\n` +
    `At line:1 char:${at + 1}\r\n` +
    `+ ${line}\r\n` +
    `+ ${" ".repeat(at)}${"~".repeat(Math.max(1, term.length))}\r\n` +
    `    + CategoryInfo          : ObjectNotFound: (${term}:String) [], CommandNotFoundException\r\n` +
    `    + FullyQualifiedErrorId : CommandNotFoundException\r\n \r\n`
  );
}
