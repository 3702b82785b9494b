// TEST DOUBLE: powershell.exe (Windows PowerShell 5.1), for exactly one script: the machine's last
// boot time, as tlsfleet reads it to tell one boot from the next (agents/playbooks/boot-identity.ts).
//
// What is followed:
// - Command line (Microsoft Learn "about_PowerShell_exe", 5.1): parameter names are
//   case-insensitive; -Command must be the last parameter and everything after it, joined with
//   spaces, is the script; an argument that is not a parameter begins the script (-Command is
//   the default). The double knows -NoProfile, -NonInteractive, -NoLogo and -Command only.
// - The script `(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
//   .ToUniversalTime().ToString('o')` (Microsoft Learn "Win32_OperatingSystem class",
//   LastBootUpTime; "Standard date and time format strings", the round-trip "O"/"o" specifier):
//   yyyy-MM-ddTHH:mm:ss.fffffffZ for a UTC DateTime, then CRLF, exit 0. CIM datetimes carry
//   microseconds, so the seventh digit is 0 on real hosts; the double's boot time has
//   milliseconds, so the last four are 0. Cmdlet, class, property and method names and the
//   format specifier are case-insensitive in PowerShell, so the match is too.
// - Anything else is not emulated and is refused loudly, as PowerShell reports a command it
//   cannot find (CommandNotFoundException on stderr, exit 1 because the last command failed),
//   and the script is logged as `powershell-unsupported` so a test sees what it asked for.

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

/** argv as CommandLineToArgvW split it (argv[0] is the program). */
export function runPowerShell(argv: readonly string[], bootedAt: Date | null): PowerShellResult {
  const args = argv.slice(1);
  let i = 0;
  while (i < args.length && SWITCHES.has(args[i]!.toLowerCase())) i++;
  if (i < args.length && args[i]!.toLowerCase() === "-command") i++;
  const script = i < args.length ? args.slice(i).join(" ") : null;

  if (script !== null && script.trim().toLowerCase() === LAST_BOOT_SCRIPT.toLowerCase() && bootedAt !== null) {
    return { stdout: `${roundTripUtc(bootedAt)}\r\n`, stderr: "", exitCode: 0, script, supported: true };
  }
  if (script === null || script.trim() === "") {
    // Real powershell.exe would start an interactive session on stdin; the double does not.
    return {
      stdout: "",
      stderr: "The Windows test double emulates powershell.exe only with -Command and the LastBootUpTime script.\r\n",
      exitCode: 1,
      script,
      supported: false,
    };
  }
  return { stdout: "", stderr: commandNotFound(script), exitCode: 1, script, supported: false };
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
