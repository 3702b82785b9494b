// The WinRM session: a remote cmd shell that runs one command at a time, as a RemoteSession.
//
// Shell lifecycle per [MS-WSMV] 3.1.4.1: Create (cmd shell, code page 65001 so reg.exe output
// arrives as UTF-8, no user profile) → Command → Send (closes stdin) → Receive until
// CommandState Done → Signal terminate → ... → Delete. A Receive that finds no output within
// OperationTimeout answers the SOAP fault 2150858793 (0x80338029, w:TimedOut): that is normal
// for a running command, and the client sends Receive again.

import net from "node:net";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { quoteWindowsCmd, UnquotableArgumentError } from "../quote";
import {
  AuthError,
  DEFAULT_EXEC_TIMEOUT_MS,
  DEFAULT_MAX_OUTPUT_BYTES,
  RemoteOutputLimitError,
  RemoteTimeoutError,
  TransportError,
  type ExecOptions,
  type ExecResult,
  type RemoteSession,
} from "../types";
import { WsmanHttp, type WinRmOptions } from "./http";
import { ACTION, envelope, extractFault, extractReceive, ID_PATTERN, NS, SIGNAL_TERMINATE, WSMAN_FAULT, type ReceiveResult, type WsmanFault } from "./soap";
import { escapeXml, parseXml, xmlAttr, xmlChild, xmlChildren, xmlFind, xmlText, type XmlElement } from "./xml";

/** Opens a WinRM session: validates options, connects, authenticates and creates the remote
 *  cmd shell, so that credential and certificate problems surface here. */
export async function openWinRmSession(opts: WinRmOptions): Promise<RemoteSession> {
  const s = new WinRmSession(opts);
  await s.open();
  return s;
}

class WinRmSession implements RemoteSession {
  readonly kind = "winrm" as const;
  readonly remoteOs = "windows" as const;
  readonly hostLabel: string;
  private readonly http: WsmanHttp;
  private readonly endpoint: string;
  private readonly operationTimeoutSec: number;
  private readonly locale: string;
  private shellId: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: WinRmOptions) {
    const port = opts.port ?? (opts.transport === "https" ? 5986 : 5985);
    this.hostLabel = opts.hostLabel ?? `${opts.host}:${port}`;
    if (opts.auth.kind === "basic" && opts.transport !== "https") {
      throw new TransportError(
        this.hostLabel,
        `Refusing Basic authentication over plain HTTP to ${this.hostLabel}: the password would cross the network unencrypted. Use HTTPS (5986) or NTLM.`,
        { code: "config" },
      );
    }
    if (opts.transport === "http" && opts.tls) {
      throw new TransportError(this.hostLabel, `TLS options were given for ${this.hostLabel} but the transport is HTTP.`, { code: "config" });
    }
    const path = opts.path ?? "/wsman";
    const hostPart = net.isIPv6(opts.host) ? `[${opts.host}]` : opts.host;
    this.endpoint = `${opts.transport}://${hostPart}:${port}${path}`;
    this.operationTimeoutSec = opts.operationTimeoutSec ?? 20;
    this.locale = opts.locale ?? "en-US";
    this.http = new WsmanHttp({ ...opts, port, path }, this.hostLabel);
  }

  async open(): Promise<void> {
    try {
      await this.createShell(Date.now() + 60_000);
    } catch (e) {
      this.http.destroy();
      throw e;
    }
  }

  /** Sends one envelope and parses the answer. Faults come back as values, not exceptions, so
   *  the caller decides (e.g. TimedOut during Receive is normal). */
  private async call(
    action: string,
    body: string,
    deadline: number,
    extra: { shellId?: string; options?: Record<string, string>; operationTimeoutSec?: number } = {},
  ): Promise<{ env: XmlElement; fault: WsmanFault | null }> {
    const messageId = `uuid:${randomUUID().toUpperCase()}`;
    const opTimeout = extra.operationTimeoutSec ?? this.operationTimeoutSec;
    const xml = envelope({
      to: this.endpoint,
      action,
      messageId,
      operationTimeoutSec: opTimeout,
      shellId: extra.shellId,
      options: extra.options,
      body,
      locale: this.locale,
    });
    // The HTTP wait covers the server's own OperationTimeout plus transit.
    const httpTimeout = Math.max(1000, Math.min(opTimeout * 1000 + 15_000, deadline - Date.now() + 15_000));
    const { text, trusted } = await this.http.post(xml, httpTimeout);
    let env: XmlElement;
    try {
      env = parseXml(text);
    } catch (e) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent XML we cannot read (${(e as Error).message}).`, { code: "protocol", cause: e });
    }
    if (env.ns !== NS.soap || env.local !== "Envelope") {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent something other than a SOAP envelope.`, { code: "protocol" });
    }
    let fault: WsmanFault | null;
    try {
      fault = extractFault(env);
    } catch (e) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a malformed SOAP fault.`, { code: "protocol", cause: e });
    }
    if (!fault && !trusted) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered an encrypted request without encryption; refusing the answer.`, {
        code: "protocol",
      });
    }
    if (!fault) {
      // Every answer must say which request it answers (WS-Addressing RelatesTo).
      const relatesTo = xmlText(xmlChild(xmlChild(env, NS.soap, "Header"), NS.wsa, "RelatesTo")).trim();
      if (relatesTo !== messageId) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered a different request than the one sent.`, { code: "protocol" });
      }
    }
    return { env, fault };
  }

  private faultError(fault: WsmanFault, what: string): TransportError {
    if (fault.code === WSMAN_FAULT.accessDenied) {
      return new AuthError(this.hostLabel, `access denied while ${what} (the account needs to be a local administrator): ${fault.message}`);
    }
    if (fault.code === WSMAN_FAULT.shellNotFound) {
      return new TransportError(this.hostLabel, `The WinRM shell on ${this.hostLabel} no longer exists (the host may have restarted): ${fault.message}`, {
        code: "remote-fault",
      });
    }
    const code = fault.code === null ? "" : ` 0x${fault.code.toString(16).toUpperCase()}`;
    return new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} refused ${what} (fault${code}): ${fault.message}`, { code: "remote-fault" });
  }

  private async createShell(deadline: number): Promise<string> {
    const { env, fault } = await this.call(
      ACTION.create,
      `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
      deadline,
      // UTF-8 output, and no user profile load (faster, fewer side effects): [MS-WSMV] 2.2.4.38.
      { options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: "65001" } },
    );
    if (fault) throw this.faultError(fault, "creating a remote shell");
    const body = xmlChild(env, NS.soap, "Body");
    let id = xmlText(xmlChild(xmlChild(body, NS.shell, "Shell"), NS.shell, "ShellId")).trim();
    if (!id) {
      const selector = xmlChildren(xmlFind(body, NS.wsman, "SelectorSet"), NS.wsman, "Selector").find((s) => xmlAttr(s, "Name") === "ShellId");
      id = xmlText(selector).trim();
    }
    const parsed = z.string().regex(ID_PATTERN).safeParse(id);
    if (!parsed.success) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} did not return a usable shell id.`, { code: "protocol" });
    this.shellId = parsed.data;
    return parsed.data;
  }

  private async deleteShell(): Promise<void> {
    const id = this.shellId;
    this.shellId = null;
    if (!id) return;
    try {
      await this.call(ACTION.delete, "", Date.now() + 10_000, { shellId: id, operationTimeoutSec: 10 });
    } catch {
      // Best effort: the shell times out on the server anyway (IdleTimeout).
    }
  }

  private async signalTerminate(shellId: string, commandId: string): Promise<void> {
    try {
      await this.call(
        ACTION.signal,
        `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${SIGNAL_TERMINATE}</rsp:Code></rsp:Signal>`,
        Date.now() + 10_000,
        { shellId, operationTimeoutSec: 10 },
      );
    } catch {
      // Best effort; the caller reports the original problem.
    }
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const run = this.queue.then(() => this.run(argv, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    if (this.closed) throw new TransportError(this.hostLabel, `The WinRM session to ${this.hostLabel} is closed.`, { code: "connect" });
    let commandLine: string;
    try {
      commandLine = quoteWindowsCmd(argv);
    } catch (e) {
      if (e instanceof UnquotableArgumentError) {
        throw new TransportError(this.hostLabel, `Not sent to ${this.hostLabel}: ${e.message}.`, { code: "unquotable", cause: e });
      }
      throw e;
    }
    const what = `"${argv.slice(0, 2).join(" ")}"`;
    const started = Date.now();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const deadline = started + timeoutMs;
    const maxBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    if (opts.signal?.aborted) {
      throw new TransportError(this.hostLabel, `${what} on ${this.hostLabel} was cancelled before it started.`, { code: "aborted", cause: opts.signal.reason });
    }

    // Command; a shell that vanished (reboot, idle timeout) is recreated once. That is safe:
    // the command did not start.
    let shellId = this.shellId ?? (await this.createShell(deadline));
    let commandId: string | null = null;
    for (let attempt = 0; attempt < 2 && commandId === null; attempt++) {
      const { env, fault } = await this.call(
        ACTION.command,
        `<rsp:CommandLine><rsp:Command>${escapeXml(commandLine)}</rsp:Command></rsp:CommandLine>`,
        deadline,
        // WINRS_SKIP_CMD_SHELL FALSE: the line goes through cmd.exe, which quoteWindowsCmd targets.
        { shellId, options: { WINRS_CONSOLEMODE_STDIN: "TRUE", WINRS_SKIP_CMD_SHELL: "FALSE" } },
      );
      if (fault?.code === WSMAN_FAULT.shellNotFound && attempt === 0) {
        this.shellId = null;
        shellId = await this.createShell(deadline);
        continue;
      }
      if (fault) throw this.faultError(fault, `running ${what}`);
      const id = xmlText(xmlChild(xmlChild(xmlChild(env, NS.soap, "Body"), NS.shell, "CommandResponse"), NS.shell, "CommandId")).trim();
      if (!ID_PATTERN.test(id)) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} did not return a usable command id.`, { code: "protocol" });
      commandId = id;
    }
    if (commandId === null) throw new Error("unreachable");

    // stdin: the given text, then end-of-file, so nothing waits for input (reg.exe prompts
    // "Yes/No" without /f, for example).
    const stdin = Buffer.from(opts.stdin ?? "", "utf8").toString("base64");
    const sent = await this.call(
      ACTION.send,
      `<rsp:Send><rsp:Stream Name="stdin" CommandId="${escapeXml(commandId)}" End="true">${stdin}</rsp:Stream></rsp:Send>`,
      deadline,
      { shellId },
    );
    // A command that already exited may refuse its input; only faults that end the session count.
    if (sent.fault?.code === WSMAN_FAULT.accessDenied || sent.fault?.code === WSMAN_FAULT.shellNotFound) {
      throw this.faultError(sent.fault, `sending input to ${what}`);
    }

    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let exitCode: number | null = null;
    for (;;) {
      if (opts.signal?.aborted) {
        await this.signalTerminate(shellId, commandId);
        throw new TransportError(this.hostLabel, `${what} on ${this.hostLabel} was cancelled.`, { code: "aborted", cause: opts.signal.reason });
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        await this.signalTerminate(shellId, commandId);
        await this.deleteShell();
        throw new RemoteTimeoutError(this.hostLabel, timeoutMs, what);
      }
      const opTimeout = Math.max(0.5, Math.min(this.operationTimeoutSec, remaining / 1000));
      const { env, fault } = await this.call(
        ACTION.receive,
        `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
        deadline,
        { shellId, operationTimeoutSec: opTimeout },
      );
      if (fault?.code === WSMAN_FAULT.operationTimedOut) continue; // still running, no output yet
      if (fault) throw this.faultError(fault, `reading the output of ${what}`);
      let r: ReceiveResult;
      try {
        r = extractReceive(env);
      } catch (e) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a Receive answer we cannot read.`, { code: "protocol", cause: e });
      }
      for (const s of r.streams) {
        if (s.commandId.toUpperCase() !== commandId.toUpperCase()) {
          throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent output of another command.`, { code: "protocol" });
        }
        const data = Buffer.from(s.data, "base64");
        bytes += data.length;
        (s.name === "stdout" ? out : err).push(data);
      }
      if (bytes > maxBytes) {
        await this.signalTerminate(shellId, commandId);
        if ((opts.onOutputLimit ?? "error") === "error") throw new RemoteOutputLimitError(this.hostLabel, maxBytes, what);
        return { ...trimToCap(out, err, maxBytes), exitCode: null, truncated: true, durationMs: Date.now() - started };
      }
      if (r.state?.done) {
        exitCode = r.state.exitCode;
        break;
      }
    }
    // Releases the command's resources on the server ([MS-WSMV] 3.1.4.1.28).
    await this.signalTerminate(shellId, commandId);
    return {
      exitCode,
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8"),
      truncated: false,
      durationMs: Date.now() - started,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.queue;
      await this.deleteShell();
    } finally {
      this.http.destroy();
    }
  }
}

function trimToCap(out: Buffer[], err: Buffer[], cap: number): { stdout: string; stderr: string } {
  const o = Buffer.concat(out);
  const e = Buffer.concat(err);
  const keepOut = o.subarray(0, Math.min(o.length, cap));
  const keepErr = e.subarray(0, Math.max(0, Math.min(e.length, cap - keepOut.length)));
  // A cut may split a UTF-8 sequence; the decoder turns the tail into U+FFFD, which is honest.
  return { stdout: keepOut.toString("utf8"), stderr: keepErr.toString("utf8") };
}
