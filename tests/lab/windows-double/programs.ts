// TEST DOUBLE: running a command line the way cmd.exe /c would, with the few programs tlsfleet
// and its tests use. Every command line and the argv each program received are written to the
// event log (state/events.jsonl), so tests can see exactly what reached the "host".

import { EventEmitter } from "node:events";
import { CmdSyntaxError, commandLineToArgv, expandPercent, splitCommandLine, type Redirect } from "./cmd-parse";
import type { WindowsMachine } from "./machine";
import { runPowerShell } from "./powershell";
import { runReg } from "./registry";

/** Output buffered for WinRM Receive / SSH channel writes, with back-pressure on the producer. */
export class OutputQueue extends EventEmitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private drainWaiters: Array<() => void> = [];
  constructor(private readonly highWater = 1024 * 1024) {
    super();
  }

  get length(): number {
    return this.size;
  }

  async push(data: Buffer | string): Promise<void> {
    const b = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (b.length === 0) return;
    this.chunks.push(b);
    this.size += b.length;
    this.emit("data");
    if (this.size > this.highWater) await new Promise<void>((r) => this.drainWaiters.push(r));
  }

  take(max: number): Buffer {
    const out: Buffer[] = [];
    let n = 0;
    while (this.chunks.length > 0 && n < max) {
      const c = this.chunks[0]!;
      if (n + c.length <= max) {
        out.push(c);
        n += c.length;
        this.chunks.shift();
      } else {
        out.push(c.subarray(0, max - n));
        this.chunks[0] = c.subarray(max - n);
        n = max;
      }
    }
    this.size -= n;
    if (this.size <= this.highWater) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      w.forEach((r) => r());
    }
    return Buffer.concat(out);
  }

  /** Unblocks a producer forever (the consumer went away). */
  discard(): void {
    this.chunks = [];
    this.size = 0;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    w.forEach((r) => r());
  }
}

export type Via = "winrm" | "ssh";

/** One running command line. */
export class EmulatedProcess extends EventEmitter {
  readonly stdout = new OutputQueue();
  readonly stderr = new OutputQueue();
  exitCode: number | null = null;
  private stdinText = "";
  private stdinEnded = false;
  private stdinWaiters: Array<() => void> = [];
  private readonly abort = new AbortController();
  readonly done: Promise<number>;

  constructor(
    readonly machine: WindowsMachine,
    readonly commandLine: string,
    readonly via: Via,
    opts: { skipCmdShell?: boolean } = {},
  ) {
    super();
    machine.log({ type: "command-line", via, line: commandLine, skipCmdShell: opts.skipCmdShell === true });
    const ctx: Ctx = {
      machine,
      via,
      signal: this.abort.signal,
      out: (s) => this.stdout.push(s),
      err: (s) => this.stderr.push(s),
      stdin: () => this.readStdin(),
    };
    const run = opts.skipCmdShell ? runProgram(ctx, commandLine, true) : runCmdLine(ctx, commandLine);
    this.done = run
      .catch((e: unknown) => {
        if (this.abort.signal.aborted) return STATUS_CONTROL_C_EXIT;
        machine.log({ type: "double-error", error: String(e) });
        return 1;
      })
      .then((code) => {
        this.exitCode = this.abort.signal.aborted ? STATUS_CONTROL_C_EXIT : code;
        this.emit("exit", this.exitCode);
        this.stdout.emit("data");
        return this.exitCode;
      });
  }

  writeStdin(text: string, end: boolean): void {
    this.stdinText += text;
    if (end) this.stdinEnded = true;
    const w = this.stdinWaiters;
    this.stdinWaiters = [];
    w.forEach((r) => r());
  }

  private async readStdin(): Promise<string> {
    while (!this.stdinEnded && !this.abort.signal.aborted) await new Promise<void>((r) => this.stdinWaiters.push(r));
    return this.stdinText;
  }

  /** WinRM Signal terminate / SSH channel close. */
  kill(): void {
    if (this.exitCode !== null) return;
    this.abort.abort();
    this.stdout.discard();
    this.stderr.discard();
    this.writeStdin("", true);
    this.machine.log({ type: "terminated", line: this.commandLine });
  }
}

/** Exit status of a process stopped by Ctrl+C / terminate. */
const STATUS_CONTROL_C_EXIT = 0xc000013a;

interface Ctx {
  machine: WindowsMachine;
  via: Via;
  signal: AbortSignal;
  out: (s: string | Buffer) => Promise<void>;
  err: (s: string | Buffer) => Promise<void>;
  stdin: () => Promise<string>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(new Error("aborted"));
      },
      { once: true },
    );
  });
}

/** cmd.exe /c LINE: phase 1 and 2, then each command in turn. */
async function runCmdLine(ctx: Ctx, line: string): Promise<number> {
  let parsed;
  try {
    parsed = splitCommandLine(expandPercent(line, ctx.machine.env));
  } catch (e) {
    if (e instanceof CmdSyntaxError) {
      await ctx.err(`${e.message}\r\n`);
      return 255;
    }
    throw e;
  }
  let code = 0;
  let pipeInput: string | null = null;
  for (let i = 0; i < parsed.commands.length; i++) {
    const op = i > 0 ? parsed.operators[i - 1] : undefined;
    if (op === "&&" && code !== 0) continue;
    if (op === "||" && code === 0) continue;
    const cmd = parsed.commands[i]!;
    const pipesOut = parsed.operators[i] === "|";
    let captured = "";
    const sub: Ctx = {
      ...ctx,
      stdin: pipeInput !== null ? (() => { const s = pipeInput!; return Promise.resolve(s); }) : ctx.stdin,
    };
    applyRedirects(sub, ctx, cmd.redirects, (s) => {
      captured += s.toString();
    }, pipesOut);
    code = await runProgram(sub, cmd.text, false);
    pipeInput = pipesOut ? captured : null;
  }
  return code;
}

function applyRedirects(sub: Ctx, parent: Ctx, redirects: Redirect[], capture: (s: string | Buffer) => void, pipesOut: boolean): void {
  if (pipesOut) {
    sub.out = async (s) => capture(s);
  }
  for (const r of redirects) {
    const target = r.target.toLowerCase();
    const sink =
      target === "nul" || target === "nul:"
        ? async () => undefined
        : target === "&1"
          ? sub.out
          : target === "&2"
            ? sub.err
            : async (s: string | Buffer) => {
                parent.machine.log({ type: "file-write", file: r.target, append: r.append, bytes: Buffer.byteLength(s) });
              };
    if (r.fd === 1) sub.out = sink;
    else if (r.fd === 2) sub.err = sink;
    else {
      parent.machine.log({ type: "file-read", file: r.target });
      sub.stdin = async () => "";
    }
  }
}

const NOT_RECOGNIZED = (name: string) => `'${name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`;

/** One simple command. `direct` = WINRS_SKIP_CMD_SHELL: CreateProcess without cmd.exe, so no
 *  built-ins. */
async function runProgram(ctx: Ctx, text: string, direct: boolean): Promise<number> {
  const argv = commandLineToArgv(text);
  if (argv.length === 0) return 0;
  const program = argv[0]!;
  const name = program.replace(/^.*[\\/]/, "").toLowerCase().replace(/\.(exe|com)$/, "");
  const rest = text.trimStart().slice(text.trimStart().startsWith('"') ? program.length + 2 : program.length).replace(/^[ \t]/, "");
  ctx.machine.log({ type: "exec", via: ctx.via, program: name, argv });

  if (!direct) {
    switch (name) {
      case "echo":
        await ctx.out(`${rest}\r\n`);
        return 0;
      case "ver": {
        const os = ctx.machine.os;
        const ubr = os.major >= 10 && os.ubr !== null ? `.${os.ubr}` : "";
        await ctx.out(`\r\nMicrosoft Windows [Version ${os.major}.${os.minor}.${os.build}${ubr}]\r\n`);
        return 0;
      }
      case "del":
      case "erase":
      case "rd":
      case "rmdir":
      case "format":
        // Nothing is deleted, but the attempt is recorded: an injection test looks for it.
        ctx.machine.log({ type: "destructive-command", program: name, argv });
        return 0;
      case "type":
        return typeFile(ctx, argv.slice(1));
      case "exit":
        return Number(argv[argv.length - 1]) || 0;
    }
  }
  switch (name) {
    case "reg": {
      const needsStdin = argv.some((a) => /^\/f$/i.test(a)) ? "" : await ctx.stdin();
      const r = runReg(ctx.machine.registry, argv, needsStdin, ctx.machine.locale.reg);
      if (r.writes.length > 0) {
        ctx.machine.persistRegistry();
        for (const w of r.writes) ctx.machine.log({ type: "registry-write", ...w });
      }
      await ctx.out(r.stdout);
      await ctx.err(r.stderr);
      return r.exitCode;
    }
    case "powershell": {
      const m = ctx.machine;
      const r = await runPowerShell(argv, { bootedAt: m.bootedAt, dotNetClientVersions: m.tlsClientVersions.dotnet["v4.0.30319"]["64-bit"], signal: ctx.signal });
      if (!r.supported) m.log({ type: "powershell-unsupported", via: ctx.via, script: r.script });
      if (r.outbound) m.log({ type: "outbound-connection", via: ctx.via, target: `${r.outbound.address}:${r.outbound.port}`, offered: m.tlsClientVersions.dotnet["v4.0.30319"]["64-bit"], report: r.stdout.trim() });
      await ctx.out(r.stdout);
      await ctx.err(r.stderr);
      return r.exitCode;
    }
    case "hostname":
      await ctx.out(`${ctx.machine.hostname}\r\n`);
      return 0;
    case "whoami":
      await ctx.out(`${ctx.machine.hostname.toLowerCase()}\\administrator\r\n`);
      return 0;
    case "shutdown":
      return shutdown(ctx, argv.slice(1));
    case "ping":
      return ping(ctx, argv.slice(1));
    case "waitfor":
      return waitfor(ctx, argv.slice(1));
    case "cmd": {
      // cmd /c REST: the rest of the line, re-parsed by the new cmd.exe. With a leading quote,
      // cmd /c strips the first and the last quote ("old behaviour" in cmd /?).
      const m = /(^|[ \t])\/[cC][ \t]*/.exec(rest);
      if (!m) {
        await ctx.out(`Microsoft Windows [Version ${ctx.machine.os.major}.${ctx.machine.os.minor}.${ctx.machine.os.build}]\r\n`);
        return 0;
      }
      let inner = rest.slice(m.index + m[0].length);
      if (inner.startsWith('"')) {
        const last = inner.lastIndexOf('"');
        inner = last > 0 ? inner.slice(1, last) + inner.slice(last + 1) : inner.slice(1);
      }
      return runCmdLine(ctx, inner);
    }
  }
  if (direct) {
    await ctx.err("The system cannot find the file specified.\r\n");
    return 2;
  }
  await ctx.err(NOT_RECOGNIZED(program));
  return 9009;
}

async function shutdown(ctx: Ctx, args: string[]): Promise<number> {
  let restart = false;
  let abort = false;
  let delay = 30; // Windows' default for /t
  let message: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.toLowerCase().replace(/^-/, "/");
    if (a === "/r") restart = true;
    else if (a === "/a") abort = true;
    else if (a === "/f" || a === "/s" || a === "/p" || a === "/h") continue;
    else if (a === "/t") {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 0 || n > 315360000) {
        await ctx.err("Invalid time specified.(87)\r\n");
        return 87;
      }
      delay = n;
    } else if (a === "/c") {
      message = args[++i] ?? "";
      if (message.length > 512) {
        await ctx.err("The comment is too long. (87)\r\n");
        return 87;
      }
    } else if (a === "/d") i++;
    else {
      await ctx.err(`Invalid option: ${args[i]}\r\n`);
      return 87;
    }
  }
  ctx.machine.log({ type: "shutdown", restart, abort, delay, message });
  if (abort) {
    if (ctx.machine.abortReboot()) return 0;
    await ctx.err("Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n");
    return 1116;
  }
  if (!restart) {
    await ctx.err("The double only emulates restarts (/r).\r\n");
    return 87;
  }
  if (!ctx.machine.scheduleReboot(delay, message)) {
    await ctx.err("A system shutdown has already been scheduled.(1190)\r\n");
    return 1190;
  }
  return 0;
}

async function ping(ctx: Ctx, args: string[]): Promise<number> {
  let count = 4;
  let forever = false;
  let target = "";
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.toLowerCase();
    if (a === "-n") count = Math.max(1, Number(args[++i]) || 4);
    else if (a === "-t") forever = true;
    else if (a === "-w") i++;
    else target = args[i]!;
  }
  await ctx.out(`\r\nPinging ${target} with 32 bytes of data:\r\n`);
  for (let n = 0; forever || n < count; n++) {
    if (n > 0) await sleep(1000, ctx.signal);
    await ctx.out(`Reply from ${target}: bytes=32 time<1ms TTL=128\r\n`);
  }
  await ctx.out(`\r\nPing statistics for ${target}:\r\n    Packets: Sent = ${count}, Received = ${count}, Lost = 0 (0% loss),\r\n`);
  return 0;
}

async function waitfor(ctx: Ctx, args: string[]): Promise<number> {
  let seconds = 0;
  let signalName = "";
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.toLowerCase() === "/t") seconds = Number(args[++i]) || 0;
    else signalName = args[i]!;
  }
  await sleep(seconds * 1000, ctx.signal);
  await ctx.err(`ERROR: Timed out waiting for '${signalName}'.\r\n`);
  return 1;
}

/** A large log file for output-cap tests: CBS.log grows to hundreds of MB on real servers. */
export const BIG_FILE = "C:\\Windows\\Logs\\CBS\\CBS.log";
export const BIG_FILE_BYTES = 16 * 1024 * 1024;

async function typeFile(ctx: Ctx, args: string[]): Promise<number> {
  if (args.length === 0 || args[0]!.toLowerCase() !== BIG_FILE.toLowerCase()) {
    await ctx.err("The system cannot find the file specified.\r\n");
    return 1;
  }
  const line = "2026-11-28 10:02:03, Info                  CBS    Exec: Processing complete, session: 31062415_1234567890, hr: 0x0\r\n";
  const block = line.repeat(Math.floor(65536 / line.length));
  for (let sent = 0; sent < BIG_FILE_BYTES; sent += block.length) {
    if (ctx.signal.aborted) throw new Error("aborted");
    await ctx.out(block);
  }
  return 0;
}
