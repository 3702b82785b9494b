// TEST DOUBLE: how cmd.exe and the Microsoft C runtime turn a command line into argv.
//
// Emulates what a real Windows host does with the line WinRM (cmd shell, WINRS_SKIP_CMD_SHELL
// FALSE) or Windows OpenSSH (default shell cmd.exe) hands to `cmd.exe /c`:
//   phase 1  %VAR% expansion, command-line rules: an undefined variable is left as it is
//            (in batch files it would vanish; we never run batch files);
//   phase 2  ^ escapes the next character outside quotes, " toggles quote state, and outside
//            quotes & && || | < > 2> >> split commands and redirect;
//   then the program splits its own command line with the CommandLineToArgvW / MSVCRT rules.
// Sources: "How does the Windows Command Interpreter (CMD.EXE) parse scripts?" (dbenham et al.,
// Stack Overflow 4094699), `cmd /?`, and Microsoft Learn "Parsing C command-line arguments".
// Delayed expansion (!VAR!) is off, as it is by default on Windows.

export interface Redirect {
  fd: 0 | 1 | 2;
  append: boolean;
  /** "nul", "&1", "&2" or a file name. */
  target: string;
}

export interface ParsedCommand {
  /** The command text after phase 2: carets removed, quotes kept. */
  text: string;
  redirects: Redirect[];
}

export type Operator = "&" | "&&" | "||" | "|";

export interface ParsedLine {
  commands: ParsedCommand[];
  /** operators[i] joins commands[i] and commands[i + 1]. */
  operators: Operator[];
}

/** Phase 1 on the command line: %NAME%, %NAME:~start,len% and %NAME:old=new% for defined names. */
export function expandPercent(line: string, env: ReadonlyMap<string, string>): string {
  const lookup = (name: string) => {
    for (const [k, v] of env) if (k.toLowerCase() === name.toLowerCase()) return v;
    return undefined;
  };
  let out = "";
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch !== "%") {
      out += ch;
      i++;
      continue;
    }
    const close = line.indexOf("%", i + 1);
    if (close < 0) {
      out += line.slice(i);
      break;
    }
    const inner = line.slice(i + 1, close);
    const colon = inner.indexOf(":");
    const name = colon >= 0 ? inner.slice(0, colon) : inner;
    const value = name === "" ? undefined : lookup(name);
    if (value === undefined) {
      // Command-line rule: keep the % and rescan from the next character.
      out += "%";
      i++;
      continue;
    }
    if (colon < 0) {
      out += value;
    } else {
      const mod = inner.slice(colon + 1);
      if (mod.startsWith("~")) {
        const [s, l] = mod.slice(1).split(",");
        let start = parseInt(s ?? "0", 10) || 0;
        if (start < 0) start = Math.max(0, value.length + start);
        let sub = value.slice(start);
        if (l !== undefined) {
          const len = parseInt(l, 10) || 0;
          sub = len >= 0 ? sub.slice(0, len) : sub.slice(0, Math.max(0, sub.length + len));
        }
        out += sub;
      } else {
        const eq = mod.indexOf("=");
        if (eq <= 0) {
          out += "%";
          i++;
          continue;
        }
        const from = mod.slice(0, eq);
        const to = mod.slice(eq + 1);
        out += value.split(new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi")).join(to);
      }
    }
    i = close + 1;
  }
  return out;
}

/** Phase 2: carets, quotes, command separators and redirections. Throws the message cmd.exe
 *  prints for a syntax error (e.g. a lone "|"). */
export function splitCommandLine(line: string): ParsedLine {
  const commands: ParsedCommand[] = [];
  const operators: Operator[] = [];
  let text = "";
  let redirects: Redirect[] = [];
  let inQuotes = false;
  let i = 0;

  const finish = (op?: Operator) => {
    const trimmed = text.trim();
    if (trimmed === "" && (op !== undefined || commands.length > 0)) {
      throw new CmdSyntaxError(`${op ?? "|"} was unexpected at this time.`);
    }
    commands.push({ text: trimmed, redirects });
    if (op) operators.push(op);
    text = "";
    redirects = [];
  };

  const readTarget = (): string => {
    while (line[i] === " " || line[i] === "\t") i++;
    let t = "";
    let q = false;
    while (i < line.length) {
      const c = line[i]!;
      if (c === '"') {
        q = !q;
        i++;
        continue;
      }
      if (!q && (c === " " || c === "\t" || c === "&" || c === "|" || c === "<" || c === ">")) break;
      if (!q && c === "^" && i + 1 < line.length) {
        t += line[i + 1];
        i += 2;
        continue;
      }
      t += c;
      i++;
    }
    if (t === "") throw new CmdSyntaxError("The syntax of the command is incorrect.");
    return t;
  };

  while (i < line.length) {
    const c = line[i]!;
    if (inQuotes) {
      if (c === '"') inQuotes = false;
      text += c;
      i++;
      continue;
    }
    if (c === "^") {
      // ^ at the very end continues the line in an interactive prompt; here there is no next
      // line, so it vanishes.
      if (i + 1 < line.length) text += line[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') {
      inQuotes = true;
      text += c;
      i++;
      continue;
    }
    if (c === "&" || c === "|") {
      // Doubled (&&, ||) it is the conditional form of the same operator.
      const op: Operator = line[i + 1] !== c ? c : c === "&" ? "&&" : "||";
      i += op.length;
      finish(op);
      continue;
    }
    if (c === ">" || c === "<" || ((c === "1" || c === "2") && line[i + 1] === ">" && /[\s]/.test(line[i - 1] ?? " "))) {
      let fd: 0 | 1 | 2 = c === "<" ? 0 : 1;
      if (c === "1" || c === "2") {
        fd = c === "2" ? 2 : 1;
        i++;
      }
      i++;
      let append = false;
      if (fd !== 0 && line[i] === ">") {
        append = true;
        i++;
      }
      let target: string;
      if (line[i] === "&" && /[0-2]/.test(line[i + 1] ?? "")) {
        target = `&${line[i + 1]}`;
        i += 2;
      } else {
        target = readTarget();
      }
      redirects.push({ fd, append, target });
      continue;
    }
    text += c;
    i++;
  }
  if (text.trim() !== "" || commands.length === 0) finish();
  else if (operators.length > 0) throw new CmdSyntaxError(`${operators[operators.length - 1]} was unexpected at this time.`);
  return { commands, operators };
}

export class CmdSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CmdSyntaxError";
  }
}

/** CommandLineToArgvW / MSVCRT (2008+) rules: whitespace separates; "..." groups; 2n backslashes
 *  before " give n backslashes and toggle; 2n+1 give n backslashes and a literal "; "" inside a
 *  quoted run is a literal ". argv[0] is taken up to whitespace, or up to the closing quote. */
export function commandLineToArgv(cmdline: string): string[] {
  const argv: string[] = [];
  let i = 0;
  const n = cmdline.length;
  while (i < n && (cmdline[i] === " " || cmdline[i] === "\t")) i++;
  if (i >= n) return argv;
  // argv[0]: no backslash processing.
  let prog = "";
  if (cmdline[i] === '"') {
    i++;
    while (i < n && cmdline[i] !== '"') prog += cmdline[i++];
    i++;
  } else {
    while (i < n && cmdline[i] !== " " && cmdline[i] !== "\t") prog += cmdline[i++];
  }
  argv.push(prog);

  for (;;) {
    while (i < n && (cmdline[i] === " " || cmdline[i] === "\t")) i++;
    if (i >= n) break;
    let arg = "";
    let inQuotes = false;
    while (i < n) {
      const c = cmdline[i]!;
      if (!inQuotes && (c === " " || c === "\t")) break;
      if (c === "\\") {
        let bs = 0;
        while (cmdline[i] === "\\") {
          bs++;
          i++;
        }
        if (cmdline[i] === '"') {
          arg += "\\".repeat(Math.floor(bs / 2));
          if (bs % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += "\\".repeat(bs);
        }
        continue;
      }
      if (c === '"') {
        if (inQuotes && cmdline[i + 1] === '"') {
          arg += '"';
          i += 2;
          continue;
        }
        inQuotes = !inQuotes;
        i++;
        continue;
      }
      arg += c;
      i++;
    }
    argv.push(arg);
  }
  return argv;
}
