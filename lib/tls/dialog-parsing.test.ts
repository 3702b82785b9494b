import { describe, expect, it } from "vitest";
import {
  DialogGarbageError,
  LineSplitter,
  SmtpReplyAssembler,
  parseImapCapabilityLine,
  parseImapGreeting,
  parseImapTagged,
  parsePop3Status,
  printable,
  smtpExtensions,
  smtpOffersStartTls,
  type SmtpReply,
} from "./dialog-parsing";

/** Feeds `pieces` through a splitter and an assembler, returning every complete reply. */
function smtpReplies(pieces: string[]): SmtpReply[] {
  const splitter = new LineSplitter();
  const assembler = new SmtpReplyAssembler();
  const replies: SmtpReply[] = [];
  for (const piece of pieces) {
    for (const line of splitter.push(piece)) {
      const reply = assembler.push(line);
      if (reply) replies.push(reply);
    }
  }
  return replies;
}

const POSTFIX_GREETING = "220-mx1.example ESMTP Postfix\r\n220-no UCE\r\n220 mx1.example ready\r\n";

describe("SMTP replies", () => {
  it("completes a multi-line greeting only at the final '220 ' line", () => {
    const replies = smtpReplies([POSTFIX_GREETING]);
    expect(replies).toEqual([{ code: 220, lines: ["mx1.example ESMTP Postfix", "no UCE", "mx1.example ready"] }]);
  });

  it("is not complete while only '220-' lines have arrived (postscreen waits for a client that talks now)", () => {
    expect(smtpReplies(["220-mx1.example ESMTP\r\n", "220-still greeting\r\n"])).toEqual([]);
  });

  it("assembles the same greeting whatever the fragmentation, including a code split in two", () => {
    const whole = smtpReplies([POSTFIX_GREETING]);
    for (let cut = 1; cut < POSTFIX_GREETING.length; cut++) {
      expect(smtpReplies([POSTFIX_GREETING.slice(0, cut), POSTFIX_GREETING.slice(cut)])).toEqual(whole);
    }
    expect(smtpReplies(POSTFIX_GREETING.split(""))).toEqual(whole);
    expect(smtpReplies(["22", "0-mx1.exa", "mple ESMTP Postfix\r", "\n220-no UCE\r\n2", "20 mx1.example ready\r\n"])).toEqual(whole);
  });

  it("accepts bare LF line ends and a bare final code", () => {
    expect(smtpReplies(["250-mx\n250\n"])).toEqual([{ code: 250, lines: ["mx", ""] }]);
  });

  it("treats a line that is not a reply as garbage", () => {
    const assembler = new SmtpReplyAssembler();
    expect(() => assembler.push("HTTP/1.1 400 Bad Request")).toThrow(DialogGarbageError);
    expect(() => assembler.push("SSH-2.0-OpenSSH_9.2")).toThrow(DialogGarbageError);
  });

  it("treats a code change inside a multi-line reply as garbage", () => {
    const assembler = new SmtpReplyAssembler();
    assembler.push("250-mx");
    expect(() => assembler.push("251 other")).toThrow(DialogGarbageError);
  });

  it("keeps two replies in one chunk apart", () => {
    expect(smtpReplies(["250 OK\r\n220 go ahead\r\n"]).map((r) => r.code)).toEqual([250, 220]);
  });
});

describe("EHLO extensions", () => {
  const ehlo = (lines: string[]): SmtpReply => ({ code: 250, lines });

  it.each([
    ["STARTTLS", true],
    ["starttls", true],
    ["StartTLS", true],
    ["  STARTTLS  ", true],
    ["STARTTLSX", false],
    ["X-STARTTLS", false],
  ])("reads the extension line '%s' as STARTTLS offered: %s", (line, offered) => {
    expect(smtpOffersStartTls(ehlo(["mx1.example Hello", "PIPELINING", line, "8BITMIME"]))).toBe(offered);
  });

  it("does not take the server name on the first line for an extension", () => {
    expect(smtpOffersStartTls(ehlo(["STARTTLS"]))).toBe(false);
    expect(smtpExtensions(ehlo(["mx Hello", "SIZE 10240000", "AUTH PLAIN LOGIN"]))).toEqual(new Set(["SIZE", "AUTH"]));
  });

  it("never reads STARTTLS from a reply that is not 250", () => {
    expect(smtpOffersStartTls({ code: 421, lines: ["mx", "STARTTLS"] })).toBe(false);
  });
});

describe("IMAP", () => {
  it("reads the greeting status and volunteered capabilities, whatever the case", () => {
    const greeting = parseImapGreeting("* ok [capability IMAP4rev1 starttls LOGINDISABLED] Dovecot ready.");
    expect(greeting.status).toBe("OK");
    expect(greeting.capabilities).toEqual(new Set(["IMAP4REV1", "STARTTLS", "LOGINDISABLED"]));
    expect(parseImapGreeting("* OK IMAP ready").capabilities).toBeNull();
    expect(parseImapGreeting("* PREAUTH welcome").status).toBe("PREAUTH");
    expect(parseImapGreeting("* BYE too many connections").status).toBe("BYE");
  });

  it("rejects a greeting that is not IMAP", () => {
    expect(() => parseImapGreeting("220 mx ESMTP")).toThrow(DialogGarbageError);
  });

  it("collects capabilities from untagged lines and finds the tagged completion", () => {
    expect(parseImapCapabilityLine("* CAPABILITY IMAP4rev1 STARTTLS")).toEqual(new Set(["IMAP4REV1", "STARTTLS"]));
    expect(parseImapCapabilityLine("* OK still here")).toBeNull();
    expect(parseImapTagged("a001 OK Capability completed.", "a001")).toEqual({ status: "OK", text: "Capability completed." });
    expect(parseImapTagged("A002 bad unknown command", "a002")).toEqual({ status: "BAD", text: "unknown command" });
    expect(parseImapTagged("* CAPABILITY IMAP4rev1", "a001")).toBeNull();
    expect(parseImapTagged("a009 OK other", "a001")).toBeNull();
    expect(() => parseImapTagged("a001 WHATEVER", "a001")).toThrow(DialogGarbageError);
  });
});

describe("POP3", () => {
  it("reads +OK and -ERR in any case and refuses anything else", () => {
    expect(parsePop3Status("+OK Dovecot ready.")).toEqual({ ok: true, text: "Dovecot ready." });
    expect(parsePop3Status("+ok")).toEqual({ ok: true, text: "" });
    expect(parsePop3Status("-ERR Unknown command: STLS")).toEqual({ ok: false, text: "Unknown command: STLS" });
    expect(() => parsePop3Status("+ERR confused")).toThrow(DialogGarbageError);
    expect(() => parsePop3Status("220 smtp")).toThrow(DialogGarbageError);
  });
});

describe("printable", () => {
  it("escapes control bytes and caps the length, so a peer cannot forge report lines", () => {
    expect(printable("550 no\r\nFAKE: ok\x1b[31m")).toBe("550 no\\x0d\\x0aFAKE: ok\\x1b[31m");
    expect(printable("x".repeat(500))).toHaveLength(123);
  });
});
