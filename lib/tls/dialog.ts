import type { Socket } from "node:net";
import {
  DialogGarbageError,
  LineSplitter,
  SmtpReplyAssembler,
  parseImapCapabilityLine,
  parseImapGreeting,
  parseImapTagged,
  parsePop3Status,
  printable,
  smtpOffersStartTls,
  type SmtpReply,
} from "./dialog-parsing";
import type { StartTlsDialog } from "./services";

export type DialogPhase = "greeting" | "capabilities" | "starttls";

/**
 * Why a plaintext dialog ended before the handshake.
 * - timeout / closed / reset: the peer went quiet or away;
 * - garbage: a line that is not a reply of the protocol, or more pre-TLS bytes than we accept;
 * - refused: a well-formed negative reply that may be temporary (421, 454, IMAP NO, ...);
 * - not-offered: the server answered properly and does not offer STARTTLS.
 */
export type DialogFailureKind = "timeout" | "closed" | "reset" | "garbage" | "refused" | "not-offered";

export class DialogFailure extends Error {
  constructor(
    readonly kind: DialogFailureKind,
    readonly phase: DialogPhase,
    detail: string,
    /** A refusal the server says is temporary: an SMTP 4yz reply (RFC 5321 4.2.1, "the
     *  action may be requested again"), e.g. Postfix's 421 "too many connections from". */
    readonly temporary = false,
  ) {
    super(detail);
    this.name = "DialogFailure";
  }
}

const PHASE_LABEL: Record<DialogPhase, string> = {
  greeting: "waiting for the greeting",
  capabilities: "waiting for the capability list",
  starttls: "waiting for the STARTTLS reply",
};

/**
 * The plaintext side of a STARTTLS connection: a line reader that never holds more than
 * `maxBytes` of what the peer sent (a 10 MB banner is cut at the cap, not buffered), and whose
 * every read has its own timeout.
 */
export class PlaintextChannel {
  private readonly splitter = new LineSplitter();
  // Lines not yet consumed are lines[nextLine..]; an index instead of shift() keeps a flood of
  // tiny lines (up to the byte cap) linear.
  private lines: string[] = [];
  private nextLine = 0;
  private received = 0;
  private ended: DialogFailure | null = null;
  private ending = false;
  private waiter: {
    phase: DialogPhase;
    accept: (line: string) => unknown;
    resolve: (value: unknown) => void;
    reject: (error: DialogFailure) => void;
    timer: NodeJS.Timeout;
  } | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
  ) {
    socket.on("data", this.onData);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
  }

  /**
   * Feeds complete lines to `accept` until it returns something other than undefined, and
   * resolves with that; fails on timeout, close or garbage (accept may throw DialogGarbageError).
   */
  read<T>(phase: DialogPhase, timeoutMs: number, accept: (line: string) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new DialogFailure("timeout", phase, `no complete reply within ${timeoutMs} ms (${PHASE_LABEL[phase]})`));
      }, timeoutMs);
      this.waiter = { phase, accept, resolve: resolve as (value: unknown) => void, reject, timer };
      this.drain();
    });
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text, "latin1");
  }

  /** True once sayGoodbye has started closing the connection. */
  get isEnding(): boolean {
    return this.ending;
  }

  /** Stops reading so TLS can take over the socket; returns how many unread bytes the peer already sent. */
  detach(): number {
    this.socket.off("data", this.onData);
    this.socket.off("error", this.onError);
    this.socket.off("close", this.onClose);
    this.socket.pause();
    return this.lines.slice(this.nextLine).reduce((n, line) => n + line.length + 1, 0) + this.splitter.pending.length;
  }

  /** Ends the session the way the protocol expects (QUIT / LOGOUT) and closes our side. */
  sayGoodbye(dialog: StartTlsDialog): void {
    if (this.socket.destroyed || this.ending) return;
    this.ending = true;
    this.socket.end(GOODBYE[dialog], "latin1");
    // A peer that ignores QUIT must not keep the connection (and its per-host slot) open.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > this.maxBytes) {
      this.fail(new DialogFailure("garbage", this.waiter?.phase ?? "greeting", `more than ${this.maxBytes} bytes before TLS`));
      this.socket.destroy();
      return;
    }
    const lines = this.splitter.push(chunk.toString("latin1"));
    if (lines.length > 0) {
      for (const line of lines) this.lines.push(line);
      this.drain();
    }
  };

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    const phase = this.waiter?.phase ?? "greeting";
    this.fail(new DialogFailure(error.code === "ECONNRESET" ? "reset" : "closed", phase, `${error.code ?? error.message} (${PHASE_LABEL[phase]})`));
  };

  private readonly onClose = (): void => {
    const phase = this.waiter?.phase ?? "greeting";
    this.fail(new DialogFailure("closed", phase, `connection closed (${PHASE_LABEL[phase]})`));
  };

  private fail(failure: DialogFailure): void {
    if (this.ended) return;
    this.ended = failure;
    if (this.waiter) this.drain();
  }

  private drain(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    while (this.nextLine < this.lines.length) {
      const line = this.lines[this.nextLine++]!;
      if (this.nextLine === this.lines.length) {
        this.lines = [];
        this.nextLine = 0;
      }
      let value: unknown;
      try {
        value = waiter.accept(line);
      } catch (error) {
        const detail = error instanceof DialogGarbageError ? error.message : String(error);
        this.settle(waiter, new DialogFailure("garbage", waiter.phase, detail));
        return;
      }
      if (value !== undefined) {
        this.settle(waiter, null, value);
        return;
      }
    }
    if (this.ended) this.settle(waiter, new DialogFailure(this.ended.kind, waiter.phase, this.ended.message));
  }

  private settle(waiter: NonNullable<PlaintextChannel["waiter"]>, failure: DialogFailure | null, value?: unknown): void {
    clearTimeout(waiter.timer);
    this.waiter = null;
    if (failure) waiter.reject(failure);
    else waiter.resolve(value);
  }
}

const GOODBYE: Record<StartTlsDialog, string> = {
  smtp: "QUIT\r\n",
  imap: "a003 LOGOUT\r\n",
  pop3: "QUIT\r\n",
};

export interface DialogOptions {
  stepTimeoutMs: number;
  /** Name sent in EHLO. */
  heloName: string;
  /**
   * Called once the greeting is complete: from then on the service counts as reachable.
   * `accepted`: the server took the connection as a session (not a 421 / BYE / -ERR refusal).
   * `serverName`: the domain an SMTP server greets with (see greetingDomain), which names it
   * across all the addresses it listens on; IMAP and POP3 greetings name nothing: null.
   */
  onGreeting?: (greeting: { accepted: boolean; serverName: string | null }) => void;
}

/** Runs the plaintext dialog up to a positive STARTTLS/STLS reply; throws DialogFailure otherwise. */
export async function negotiateStartTls(channel: PlaintextChannel, dialog: StartTlsDialog, options: DialogOptions): Promise<void> {
  try {
    if (dialog === "smtp") await smtpStartTls(channel, options);
    else if (dialog === "imap") await imapStartTls(channel, options);
    else await pop3Stls(channel, options);
  } catch (error) {
    if (error instanceof DialogFailure && (error.kind === "not-offered" || error.kind === "refused")) {
      channel.sayGoodbye(dialog);
    }
    throw error;
  }
}

function readSmtpReply(channel: PlaintextChannel, phase: DialogPhase, timeoutMs: number): Promise<SmtpReply> {
  const assembler = new SmtpReplyAssembler();
  return channel.read(phase, timeoutMs, (line) => assembler.push(line) ?? undefined);
}

const isTransient = (reply: SmtpReply) => reply.code >= 400 && reply.code < 500;

function describe(reply: SmtpReply): string {
  return printable(`${reply.code} ${reply.lines[reply.lines.length - 1] ?? ""}`.trim());
}

/**
 * The server's name from an SMTP greeting: RFC 5321 4.3.1 has the 220 reply (and a 421 refusal,
 * 3.8) begin with the server's domain, after an enhanced status code where the server uses one
 * (Postfix's "421 4.7.0 mx.example Error: too many connections from ..."). Null where the first
 * word is no domain name, or a name many unrelated servers share ("localhost...").
 */
export function greetingDomain(reply: SmtpReply): string | null {
  const words = (reply.lines[0] ?? "").trim().split(/\s+/);
  const word = /^[245]\.\d{1,3}\.\d{1,3}$/.test(words[0] ?? "") ? words[1] : words[0];
  if (!word || word.length > 253 || !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\.?$/.test(word)) return null;
  if (/^localhost(\.|$)/i.test(word)) return null;
  return word.replace(/\.$/, "").toLowerCase();
}

async function smtpStartTls(channel: PlaintextChannel, options: DialogOptions): Promise<void> {
  const greeting = await readSmtpReply(channel, "greeting", options.stepTimeoutMs);
  options.onGreeting?.({ accepted: greeting.code === 220, serverName: greetingDomain(greeting) });
  // 421 (busy, rate limited) and 554 (postscreen, blocklists) are refusals of this connection,
  // not statements about TLS: they stay retryable and never turn into "no STARTTLS".
  if (greeting.code !== 220) throw new DialogFailure("refused", "greeting", `greeting refused: ${describe(greeting)}`, isTransient(greeting));
  channel.write(`EHLO ${options.heloName}\r\n`);
  const ehlo = await readSmtpReply(channel, "capabilities", options.stepTimeoutMs);
  if (ehlo.code >= 500) {
    // A HELO-only server cannot advertise extensions, STARTTLS included.
    throw new DialogFailure("not-offered", "capabilities", `EHLO refused: ${describe(ehlo)}`);
  }
  if (ehlo.code !== 250) throw new DialogFailure("refused", "capabilities", `EHLO refused: ${describe(ehlo)}`, isTransient(ehlo));
  if (!smtpOffersStartTls(ehlo)) throw new DialogFailure("not-offered", "capabilities", "STARTTLS not offered in the EHLO reply");
  channel.write("STARTTLS\r\n");
  const reply = await readSmtpReply(channel, "starttls", options.stepTimeoutMs);
  if (reply.code !== 220) throw new DialogFailure("refused", "starttls", `STARTTLS refused: ${describe(reply)}`, isTransient(reply));
}

async function imapStartTls(channel: PlaintextChannel, options: DialogOptions): Promise<void> {
  const greeting = await channel.read("greeting", options.stepTimeoutMs, parseImapGreeting);
  options.onGreeting?.({ accepted: greeting.status !== "BYE", serverName: null });
  if (greeting.status === "BYE") throw new DialogFailure("refused", "greeting", `greeting refused: * BYE ${printable(greeting.text)}`);
  // RFC 3501 6.2.1: STARTTLS exists only in the not-authenticated state, which PREAUTH skips.
  if (greeting.status === "PREAUTH") throw new DialogFailure("not-offered", "greeting", "server greets with PREAUTH, STARTTLS impossible");
  let capabilities = greeting.capabilities;
  if (capabilities === null) {
    channel.write("a001 CAPABILITY\r\n");
    const listed = new Set<string>();
    const completion = await channel.read("capabilities", options.stepTimeoutMs, (line) => {
      for (const capability of parseImapCapabilityLine(line) ?? []) listed.add(capability);
      return parseImapTagged(line, "a001") ?? undefined;
    });
    // Without a usable capability list we still try STARTTLS: the tagged reply then decides.
    if (completion.status === "OK" && listed.size > 0) capabilities = listed;
  }
  if (capabilities && !capabilities.has("STARTTLS")) {
    throw new DialogFailure("not-offered", "capabilities", "STARTTLS not in the IMAP capabilities");
  }
  channel.write("a002 STARTTLS\r\n");
  const reply = await channel.read("starttls", options.stepTimeoutMs, (line) => parseImapTagged(line, "a002") ?? undefined);
  if (reply.status === "OK") return;
  // BAD is what RFC 3501 servers answer to a command they do not know; NO is a refusal of the moment.
  throw new DialogFailure(reply.status === "BAD" ? "not-offered" : "refused", "starttls", `STARTTLS refused: a002 ${reply.status} ${printable(reply.text)}`);
}

async function pop3Stls(channel: PlaintextChannel, options: DialogOptions): Promise<void> {
  const greeting = await channel.read("greeting", options.stepTimeoutMs, parsePop3Status);
  options.onGreeting?.({ accepted: greeting.ok, serverName: null });
  if (!greeting.ok) throw new DialogFailure("refused", "greeting", `greeting refused: -ERR ${printable(greeting.text)}`);
  channel.write("STLS\r\n");
  const reply = await channel.read("starttls", options.stepTimeoutMs, parsePop3Status);
  // RFC 2595 4: a server without STLS answers -ERR to the unknown command.
  if (!reply.ok) throw new DialogFailure("not-offered", "starttls", `STLS refused: -ERR ${printable(reply.text)}`);
}
