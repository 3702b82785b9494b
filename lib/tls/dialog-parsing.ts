// Pure framing of the plaintext dialogs that precede STARTTLS. No sockets here, so every quirk
// (fragmented lines, odd capitalisation, multi-line replies) is testable as data.

/** Splits a byte stream (decoded as latin1, so any byte survives) into CRLF- or LF-terminated lines. */
export class LineSplitter {
  private partial = "";

  /** Complete lines in this chunk, without their terminators. A trailing fragment is kept for later. */
  push(chunk: string): string[] {
    if (!chunk.includes("\n")) {
      this.partial += chunk;
      return [];
    }
    const pieces = (this.partial + chunk).split("\n");
    this.partial = pieces.pop() ?? "";
    return pieces.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }

  /** Bytes received after the last complete line. */
  get pending(): string {
    return this.partial;
  }
}

export class DialogGarbageError extends Error {
  constructor(readonly line: string) {
    super(`not a valid reply line: ${printable(line)}`);
    this.name = "DialogGarbageError";
  }
}

export interface SmtpReply {
  code: number;
  /** Text of each line after the code and separator. */
  lines: string[];
}

const SMTP_LINE = /^([2-5]\d\d)([ -]|$)(.*)$/;

/**
 * Collects one SMTP reply (RFC 5321 4.2.1): "250-..." continues, "250 ..." (or a bare "250") ends it.
 * Postscreen sends "220-" first and only later the final "220 ": a client that speaks before the
 * final line is treated as a bot, so the reply is complete only at the final line.
 */
export class SmtpReplyAssembler {
  private code: number | null = null;
  private lines: string[] = [];

  /** Returns the reply once its last line arrives, null while more lines are due. */
  push(line: string): SmtpReply | null {
    const match = SMTP_LINE.exec(line);
    if (!match) throw new DialogGarbageError(line);
    const code = Number(match[1]);
    if (this.code !== null && code !== this.code) throw new DialogGarbageError(line);
    this.code = code;
    this.lines.push(match[3] ?? "");
    if (match[2] === "-") return null;
    const reply = { code, lines: this.lines };
    this.code = null;
    this.lines = [];
    return reply;
  }
}

/** EHLO keywords (RFC 5321 4.1.1.1), upper-cased: servers write "starttls" or "StartTLS" too. */
export function smtpExtensions(ehlo: SmtpReply): Set<string> {
  const keywords = new Set<string>();
  // The first line is the server's name and greeting text, not an extension.
  for (const line of ehlo.lines.slice(1)) {
    const keyword = line.trim().split(/\s+/, 1)[0];
    if (keyword) keywords.add(keyword.toUpperCase());
  }
  return keywords;
}

export function smtpOffersStartTls(ehlo: SmtpReply): boolean {
  return ehlo.code === 250 && smtpExtensions(ehlo).has("STARTTLS");
}

export type ImapGreeting = { status: "OK" | "PREAUTH" | "BYE"; capabilities: Set<string> | null; text: string };

const IMAP_GREETING = /^\*\s+(OK|PREAUTH|BYE)\b\s*(.*)$/i;
const IMAP_CAPABILITY_CODE = /^\[CAPABILITY\s+([^\]]*)\]/i;
const IMAP_CAPABILITY_LINE = /^\*\s+CAPABILITY\s+(.*)$/i;

/** The untagged greeting (RFC 3501 7.1), with the capabilities when the server volunteers them. */
export function parseImapGreeting(line: string): ImapGreeting {
  const match = IMAP_GREETING.exec(line);
  if (!match) throw new DialogGarbageError(line);
  const text = match[2] ?? "";
  const code = IMAP_CAPABILITY_CODE.exec(text);
  return {
    status: match[1]!.toUpperCase() as ImapGreeting["status"],
    capabilities: code ? capabilitySet(code[1]!) : null,
    text,
  };
}

/** Capabilities from an untagged "* CAPABILITY ..." line, or null for any other line. */
export function parseImapCapabilityLine(line: string): Set<string> | null {
  const match = IMAP_CAPABILITY_LINE.exec(line);
  return match ? capabilitySet(match[1]!) : null;
}

export type ImapTaggedStatus = "OK" | "NO" | "BAD";

/**
 * The status of the tagged completion for `tag`, null for untagged or other lines. Tags compare
 * case-insensitively because some servers echo them upper-cased.
 */
export function parseImapTagged(line: string, tag: string): { status: ImapTaggedStatus; text: string } | null {
  const space = line.indexOf(" ");
  if (space <= 0 || line.slice(0, space).toLowerCase() !== tag.toLowerCase()) return null;
  const match = /^(OK|NO|BAD)\b\s*(.*)$/i.exec(line.slice(space + 1));
  if (!match) throw new DialogGarbageError(line);
  return { status: match[1]!.toUpperCase() as ImapTaggedStatus, text: match[2] ?? "" };
}

function capabilitySet(text: string): Set<string> {
  return new Set(text.trim().split(/\s+/).filter(Boolean).map((c) => c.toUpperCase()));
}

/** POP3 status line (RFC 1939 3): "+OK ..." or "-ERR ...". */
export function parsePop3Status(line: string): { ok: boolean; text: string } {
  const match = /^([+-])(OK|ERR)\b\s*(.*)$/i.exec(line);
  if (!match || (match[1] === "+") !== (match[2]!.toUpperCase() === "OK")) throw new DialogGarbageError(line);
  return { ok: match[1] === "+", text: match[3] ?? "" };
}

/** A peer's line made safe for a one-line report: control bytes escaped, length capped. */
export function printable(text: string, max = 120): string {
  const escaped = text.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return escaped.length > max ? `${escaped.slice(0, max)}...` : escaped;
}
