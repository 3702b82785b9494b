// Turning an argv array into the one command line a remote shell parses, so that every element
// reaches the program as exactly one argument, as data.
//
// Two targets:
// - POSIX sh (Linux over SSH): single quotes make everything literal except the single quote.
// - Windows cmd.exe (WinRM's "cmd" shell resource runs the line through cmd.exe /c, and Windows
//   OpenSSH's default shell is cmd.exe): two parsers run one after the other. cmd.exe first
//   expands %VAR%, then honours & | < > ( ) ^ and quote state; then the program splits what is
//   left into argv with the Microsoft C runtime rules (CommandLineToArgvW). We quote for the
//   second parser, then escape every cmd.exe metacharacter of the result with ^ so the first
//   parser hands it on unchanged. This is the method in "Everyone quotes command line arguments
//   the wrong way" (Daniel Colascione, MSDN blog, 2011), also used by Ansible's cmd shell plugin
//   and Perl's Net::OpenSSH::ShellQuoter::MSCmd.
//
// Limits of the Windows quoting, each refused with UnquotableArgumentError rather than
// "mostly" quoted:
// - CR, LF, NUL: cmd.exe ends the command at a line break; there is no escape for it.
// - "!": with delayed expansion on (cmd /V:ON, or the DelayedExpansion value under
//   HKLM\Software\Microsoft\Command Processor) !VAR! is expanded after ^ has been removed, so
//   no escape works in both modes, and we cannot know the mode of a remote host.
// - Fullwidth forms U+FF01..U+FF5E: Windows "best fit" maps them to their ASCII twins (e.g.
//   U+FF02 to ") when a program reads its command line in an ANSI code page ("WorstFit",
//   DEVCORE 2025), which would undo the quoting for such programs.
// - argv[0] must be a plain program name or path without spaces or metacharacters: cmd /c
//   strips a leading quote from the line under its "old behaviour" rules (cmd /?), so the
//   program is never quoted, and it comes from our code, never from host data.
// - "%" IS passed as data: each % and each : is emitted as ^% and ^:, so every name cmd.exe
//   could look up in a %NAME% or %NAME:...% span ends in "^" (e.g. "PATH^"); such a variable
//   does not exist, and on the command line (unlike in a batch file) cmd.exe leaves an
//   undefined %VAR% as it is, after which the ^ is removed. The residual assumption: no
//   environment variable on the host has a name ending in "^".
// - The quoting holds for real executables (reg.exe, shutdown.exe, hostname.exe). cmd.exe
//   built-ins and .bat/.cmd files re-parse their arguments; do not pass host data to them.

export class UnquotableArgumentError extends Error {
  readonly index: number;
  constructor(index: number, reason: string) {
    super(`argument ${index} cannot be passed safely: ${reason}`);
    this.name = "UnquotableArgumentError";
    this.index = index;
  }
}

const POSIX_SAFE = /^[A-Za-z0-9_\-.,:/@+=]+$/;

/** One POSIX sh command line from argv: `'...'` around anything not obviously plain. */
export function quotePosix(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnquotableArgumentError(0, "empty argv");
  return argv
    .map((arg, i) => {
      if (arg.includes("\0")) throw new UnquotableArgumentError(i, "contains a NUL byte");
      if (POSIX_SAFE.test(arg)) return arg;
      // Inside single quotes sh takes every byte literally; a single quote itself is written
      // as: close quote, escaped quote, reopen quote.
      return `'${arg.replaceAll("'", `'\\''`)}'`;
    })
    .join(" ");
}

// cmd.exe metacharacters (cmd /? and SS64 "Escape characters"): each is prefixed with ^.
// ":" is not special to cmd.exe's second phase, but %NAME:old=new% and %NAME:~n,m% expand
// when NAME exists, so a ^ before ":" keeps every name cmd.exe could look up ending in "^".
const CMD_META = /[()%!^"<>&|:]/g;
const WINDOWS_PROGRAM = /^[A-Za-z0-9_.:\\-]+$/;
const NEEDS_CRT_QUOTES = /[ \t\v"]/;

/** Quotes one argument for the Microsoft C runtime / CommandLineToArgvW splitter. */
export function quoteWindowsArg(arg: string): string {
  if (arg !== "" && !NEEDS_CRT_QUOTES.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      backslashes++;
      continue;
    }
    if (ch === '"') {
      // 2n+1 backslashes then " : n literal backslashes and a literal quote.
      out += "\\".repeat(backslashes * 2 + 1) + '"';
    } else {
      out += "\\".repeat(backslashes) + ch;
    }
    backslashes = 0;
  }
  // Backslashes before the closing quote must be doubled or they would escape it.
  return out + "\\".repeat(backslashes * 2) + '"';
}

function checkWindowsArg(arg: string, i: number): void {
  if (/[\r\n\0]/.test(arg)) throw new UnquotableArgumentError(i, "contains a line break or NUL, which cmd.exe cannot take as data");
  if (arg.includes("!")) {
    throw new UnquotableArgumentError(i, 'contains "!", which cmd.exe expands when delayed expansion is on');
  }
  if (/[\uFF01-\uFF5E]/.test(arg)) {
    throw new UnquotableArgumentError(i, "contains fullwidth characters that Windows may map to quote or escape characters");
  }
}

/** One cmd.exe command line from argv (see the limits at the top of this file). */
export function quoteWindowsCmd(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnquotableArgumentError(0, "empty argv");
  const [program, ...args] = argv as [string, ...string[]];
  if (!WINDOWS_PROGRAM.test(program)) {
    throw new UnquotableArgumentError(0, "the program must be a plain name or path without spaces or shell characters");
  }
  const parts = [program];
  args.forEach((arg, j) => {
    checkWindowsArg(arg, j + 1);
    parts.push(quoteWindowsArg(arg).replace(CMD_META, (m) => `^${m}`));
  });
  return parts.join(" ");
}

/** The quoting the remote's default shell needs. */
export function quoteForRemote(remoteOs: "windows" | "linux", argv: readonly string[]): string {
  return remoteOs === "windows" ? quoteWindowsCmd(argv) : quotePosix(argv);
}
