// Reads a server's first answer to our ClientHello, whatever TCP does to it (one byte per segment,
// several records per segment) and whatever the peer sends instead (HTTP, a banner, random
// bytes): it only ever returns a result, asks for more, or reports garbage. Never throws.
// For TLS 1.0-1.2 it can read on to the Certificate message of the same flight, which is sent in
// clear there (RFC 5246 7.4.2): the certificate without a finished handshake.
import { X509Certificate } from "node:crypto";
import { summarizeCertificate } from "./certificate";
import { offeredSuites, versionForCode } from "./client-hello";
import { REJECTING_ALERTS } from "./handshake-errors";
import type { CertificateSummary, Outcome, TlsVersion } from "./types";

/** What the first records of the server's reply say. */
export type FirstFlight =
  | {
      kind: "server-hello";
      /** The version the server selected: supported_versions when present, else legacy_version. */
      versionCode: number;
      cipherSuite: number;
      /** A TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3): the server takes 1.3 but wants another key share. */
      helloRetry: boolean;
      /**
       * RFC 8446 4.1.3's downgrade sentinel in the server random, where it fits the version the
       * server picked: "TLSv1.3" ("DOWNGRD\x01" in a TLS 1.2 ServerHello: a TLS 1.3 server, which
       * MUST set it) or "TLSv1.2" ("DOWNGRD\x00" in a 1.0/1.1 one: a server of 1.2 or later). Its
       * absence proves nothing: RFC 8446 servers behind a TLS 1.2 terminator, or ones that do not
       * follow the MUST, leave it out.
       */
      downgradeSentinel: "TLSv1.3" | "TLSv1.2" | null;
      /** Only when asked for (readCertificate) and the version sends it in clear (TLS 1.0-1.2). */
      certificate?: FlightCertificate;
    }
  | { kind: "alert"; level: number; description: number; name: string }
  | { kind: "garbage"; detail: string };

/** What the flight told about the server's certificate. */
export type FlightCertificate =
  /** The leaf: the first entry of the Certificate message's certificate_list (RFC 5246 7.4.2). */
  | { kind: "leaf"; der: Buffer }
  /** The flight went on without a Certificate message (an anonymous suite): the server has none to show. */
  | { kind: "none" }
  /** The flight ended, or went wrong, before a whole Certificate message: ask a full handshake. */
  | { kind: "unreadable"; detail: string };

/** The most we read looking for a ServerHello: real ones are a few hundred bytes. */
export const DEFAULT_FIRST_FLIGHT_CAP = 32 * 1024;
/** The most we read looking for the ServerHello and the Certificate: real chains are 2-8 KiB. */
export const CERTIFICATE_FLIGHT_CAP = 64 * 1024;

const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_HELLO_REQUEST = 0;
const HANDSHAKE_SERVER_HELLO = 2;
const HANDSHAKE_CERTIFICATE = 11;
/** ServerKeyExchange, CertificateRequest, ServerHelloDone: after them no Certificate comes any more. */
const HANDSHAKE_AFTER_CERTIFICATE = new Set([12, 13, 14]);
const EXT_SUPPORTED_VERSIONS = 43;
/** RFC 5246 6.2.3: a TLSCiphertext is at most 2^14 + 2048 bytes. */
const MAX_RECORD = 16384 + 2048;
// RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random.
const HELLO_RETRY_RANDOM = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");
// RFC 8446 4.1.3: the last 8 bytes of a downgrading TLS 1.3 server's random, "DOWNGRD" and 01 (it
// negotiated TLS 1.2) or 00 (1.1 or below; TLS 1.2 servers SHOULD send that one too).
const DOWNGRADE_PREFIX = Buffer.from("444f574e475244", "hex");

// RFC 8446 6, RFC 5246 7.2, RFC 7301.
const ALERT_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "close_notify"],
  [10, "unexpected_message"],
  [20, "bad_record_mac"],
  [21, "decryption_failed"],
  [22, "record_overflow"],
  [30, "decompression_failure"],
  [40, "handshake_failure"],
  [41, "no_certificate"],
  [42, "bad_certificate"],
  [43, "unsupported_certificate"],
  [44, "certificate_revoked"],
  [45, "certificate_expired"],
  [46, "certificate_unknown"],
  [47, "illegal_parameter"],
  [48, "unknown_ca"],
  [49, "access_denied"],
  [50, "decode_error"],
  [51, "decrypt_error"],
  [60, "export_restriction"],
  [70, "protocol_version"],
  [71, "insufficient_security"],
  [80, "internal_error"],
  [86, "inappropriate_fallback"],
  [90, "user_canceled"],
  [100, "no_renegotiation"],
  [109, "missing_extension"],
  [110, "unsupported_extension"],
  [112, "unrecognized_name"],
  [113, "bad_certificate_status_response"],
  [115, "unknown_psk_identity"],
  [116, "certificate_required"],
  [120, "no_application_protocol"],
]);

export function alertName(description: number): string {
  return ALERT_NAMES.get(description) ?? `alert ${description}`;
}

/**
 * Incremental reader of the server's first flight. push() each chunk as it arrives: it returns
 * null while it needs more bytes, then the answer (and keeps returning it).
 */
export class FirstFlightReader {
  private records = Buffer.alloc(0);
  /** Handshake bytes not parsed yet, across records. */
  private handshakeParts: Buffer[] = [];
  private handshakeBytes = 0;
  /** How many of them the next step needs: a message header, or the whole message once its length is known. */
  private handshakeNeeded = 4;
  /** Bytes of the current handshake record not read yet; 0 between records. */
  private handshakeLeft = 0;
  private received = 0;
  private answer: FirstFlight | null = null;
  /** The ServerHello, once read, while the reader goes on to the Certificate. */
  private serverHello: Extract<FirstFlight, { kind: "server-hello" }> | null = null;

  /**
   * With `readCertificate`, a TLS 1.0-1.2 ServerHello is answered only together with what follows
   * it in the flight (see FlightCertificate); a TLS 1.3 one (encrypted from there on) at once.
   */
  constructor(
    private readonly maxBytes = DEFAULT_FIRST_FLIGHT_CAP,
    private readonly readCertificate = false,
  ) {}

  /** Bytes pushed so far. */
  get bytesReceived(): number {
    return this.received;
  }

  /**
   * The stream ended (closed, reset, timed out) before push() answered: the ServerHello if one
   * came, with the certificate unreadable for `why`; null when not even a ServerHello came.
   */
  cutShort(why: string): FirstFlight | null {
    if (this.answer) return this.answer;
    if (!this.serverHello) return null;
    this.answer = { ...this.serverHello, certificate: { kind: "unreadable", detail: `${why} before the Certificate message was complete` } };
    return this.answer;
  }

  push(chunk: Uint8Array): FirstFlight | null {
    if (this.answer) return this.answer;
    this.received += chunk.length;
    // Only what is not yet parsed is kept, and never more than the cap.
    const room = Math.max(0, this.maxBytes + 5 - this.records.length);
    this.records = this.records.length === 0 ? Buffer.from(chunk.subarray(0, room)) : Buffer.concat([this.records, chunk.subarray(0, room)]);
    try {
      this.answer = this.parse();
    } catch (error) {
      // parse() checks every length before reading; this is a last line of defence only.
      this.answer = { kind: "garbage", detail: `unreadable reply (${error instanceof Error ? error.message : String(error)})` };
    }
    if (!this.answer && this.received > this.maxBytes) {
      this.answer = this.serverHello
        ? this.withCertificate({ kind: "unreadable", detail: `no whole Certificate message within ${this.maxBytes} bytes` })
        : { kind: "garbage", detail: `no ServerHello within ${this.maxBytes} bytes` };
    }
    return this.answer;
  }

  private withCertificate(certificate: FlightCertificate): FirstFlight {
    return { ...this.serverHello!, certificate };
  }

  /** After the ServerHello, a broken record or message costs only the certificate, never the version's answer. */
  private failed(flight: FirstFlight): FirstFlight {
    if (!this.serverHello || flight.kind === "server-hello") return flight;
    return this.withCertificate({ kind: "unreadable", detail: flight.kind === "alert" ? `alert ${flight.name} after the ServerHello` : flight.detail });
  }

  private parse(): FirstFlight | null {
    const answer = this.parseRecords();
    return answer === null ? null : this.failed(answer);
  }

  private parseRecords(): FirstFlight | null {
    for (;;) {
      const r = this.records;
      if (this.handshakeLeft === 0) {
        // A whole record header before judging, so the answer (and the bytes it quotes) is the
        // same however TCP cut the stream.
        if (r.length < 5) return null;
        if ((r[0] !== CONTENT_HANDSHAKE && r[0] !== CONTENT_ALERT) || r[1] !== 0x03 || r[2]! > 0x04) return garbage("not a TLS record", r);
        const length = r.readUInt16BE(3);
        if (length === 0 || length > MAX_RECORD) return garbage(`record length ${length}`, r);

        if (r[0] === CONTENT_ALERT) {
          if (length !== 2) return garbage(`alert record of ${length} bytes`, r);
          if (r.length < 7) return null;
          const [level, description] = [r[5]!, r[6]!];
          this.records = r.subarray(7);
          // A warning-level unrecognized_name before the ServerHello is how some servers say "no
          // certificate for that SNI name"; the handshake goes on.
          if (level === 1 && description === 112) continue;
          return { kind: "alert", level, description, name: alertName(description) };
        }
        this.records = r.subarray(5);
        this.handshakeLeft = length;
        continue;
      }
      // A handshake record's body is taken as it streams in: OpenSSL sends a TLS 1.2 flight
      // (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone) as one record, and a
      // ServerHello that arrived must count even when the rest of that record never does.
      if (r.length === 0) return null;
      const body = r.subarray(0, this.handshakeLeft);
      this.records = r.subarray(body.length);
      this.handshakeLeft -= body.length;
      this.handshakeParts.push(body);
      this.handshakeBytes += body.length;

      for (;;) {
        // Joined only once the next message is whole, so that a chain trickling in byte by byte
        // is not copied over and over.
        if (this.handshakeBytes < this.handshakeNeeded) break;
        const h = this.handshakeParts.length === 1 ? this.handshakeParts[0]! : Buffer.concat(this.handshakeParts);
        this.handshakeParts = [h];
        this.handshakeNeeded = 4;
        if (h.length < 4) break;
        const type = h[0]!;
        const messageLength = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
        const consume = (n: number) => {
          this.handshakeParts = [h.subarray(n)];
          this.handshakeBytes -= n;
        };
        if (type === HANDSHAKE_HELLO_REQUEST && messageLength === 0) {
          // RFC 5246 7.4.1.1: a client in the middle of a handshake ignores HelloRequest.
          consume(4);
          continue;
        }
        if (this.serverHello) {
          if (HANDSHAKE_AFTER_CERTIFICATE.has(type)) return this.withCertificate({ kind: "none" });
          if (type !== HANDSHAKE_CERTIFICATE) return { kind: "garbage", detail: `handshake message ${type} where a Certificate belongs` };
          if (messageLength > this.maxBytes) return { kind: "garbage", detail: `Certificate message of ${messageLength} bytes` };
          if (h.length < 4 + messageLength) {
            this.handshakeNeeded = 4 + messageLength;
            break;
          }
          return this.withCertificate(leafOf(h.subarray(4, 4 + messageLength)));
        }
        if (type !== HANDSHAKE_SERVER_HELLO) return { kind: "garbage", detail: `handshake message ${type} where a ServerHello belongs` };
        if (messageLength > this.maxBytes) return { kind: "garbage", detail: `ServerHello of ${messageLength} bytes` };
        if (h.length < 4 + messageLength) {
          this.handshakeNeeded = 4 + messageLength;
          break;
        }
        const hello = parseServerHello(h.subarray(4, 4 + messageLength));
        // TLS 1.3 encrypts everything after its ServerHello (and a HelloRetryRequest ends the flight).
        if (!this.readCertificate || hello.kind !== "server-hello" || hello.versionCode >= 0x0304 || hello.helloRetry) return hello;
        this.serverHello = hello;
        consume(4 + messageLength);
      }
    }
  }
}

/** Quotes the 5 bytes of a record header: as text when they are ("HTTP/", "220 m"), else in hex. */
function garbage(what: string, bytes: Buffer): FirstFlight {
  const head = bytes.subarray(0, 5);
  const text = [...head].every((b) => b >= 0x20 && b < 0x7f) ? JSON.stringify(head.toString("latin1")) : [...head].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return { kind: "garbage", detail: `${what}: ${text}` };
}

/** RFC 5246 7.4.1.3 / RFC 8446 4.1.3; every length is checked against what is there. */
function parseServerHello(body: Buffer): FirstFlight {
  const malformed = (why: string): FirstFlight => ({ kind: "garbage", detail: `malformed ServerHello (${why})` });
  if (body.length < 38) return malformed("too short");
  const legacyVersion = body.readUInt16BE(0);
  const helloRetry = body.subarray(2, 34).equals(HELLO_RETRY_RANDOM);
  const sessionIdLength = body[34]!;
  if (sessionIdLength > 32) return malformed("session id longer than 32 bytes");
  let at = 35 + sessionIdLength;
  if (body.length < at + 3) return malformed("too short");
  const cipherSuite = body.readUInt16BE(at);
  at += 3; // cipher suite, compression method
  let versionCode = legacyVersion;
  if (at < body.length) {
    if (body.length < at + 2) return malformed("extensions length");
    const end = at + 2 + body.readUInt16BE(at);
    if (end !== body.length) return malformed("extensions length");
    at += 2;
    const seen = new Set<number>();
    while (at < end) {
      if (end - at < 4) return malformed("extension header");
      const type = body.readUInt16BE(at);
      const length = body.readUInt16BE(at + 2);
      at += 4;
      if (end - at < length) return malformed("extension length");
      if (seen.has(type)) return malformed(`extension ${type} twice`);
      seen.add(type);
      if (type === EXT_SUPPORTED_VERSIONS) {
        if (length !== 2) return malformed("supported_versions length");
        versionCode = body.readUInt16BE(at);
      }
      at += length;
    }
  }
  if (helloRetry && versionCode !== 0x0304) return malformed("HelloRetryRequest without TLS 1.3");
  return { kind: "server-hello", versionCode, cipherSuite, helloRetry, downgradeSentinel: downgradeSentinel(body.subarray(26, 34), versionCode) };
}

/** `tail` is the last 8 bytes of the server random. */
function downgradeSentinel(tail: Buffer, versionCode: number): "TLSv1.3" | "TLSv1.2" | null {
  if (!tail.subarray(0, 7).equals(DOWNGRADE_PREFIX)) return null;
  if (tail[7] === 0x01 && versionCode === 0x0303) return "TLSv1.3";
  if (tail[7] === 0x00 && versionCode < 0x0303) return "TLSv1.2";
  return null;
}

/** RFC 5246 7.4.2: certificate_list<0..2^24-1>, each entry ASN.1Cert<1..2^24-1>, the sender's first. */
function leafOf(body: Buffer): FlightCertificate {
  const unreadable = (why: string): FlightCertificate => ({ kind: "unreadable", detail: `malformed Certificate message (${why})` });
  if (body.length < 3) return unreadable("too short");
  const listLength = (body[0]! << 16) | (body[1]! << 8) | body[2]!;
  if (listLength !== body.length - 3) return unreadable("list length");
  if (listLength === 0) return unreadable("no certificate in it");
  if (listLength < 3) return unreadable("entry header");
  const leafLength = (body[3]! << 16) | (body[4]! << 8) | body[5]!;
  if (leafLength === 0 || leafLength > listLength - 3) return unreadable("entry length");
  return { kind: "leaf", der: Buffer.from(body.subarray(6, 6 + leafLength)) };
}

export interface HelloJudgement {
  outcome: Outcome;
  /** null when accepted. */
  reason: string | null;
  /** OpenSSL's name for the suite the server picked, when accepted. */
  cipher?: string;
  /** When accepted and the flight was read for it: the leaf's summary, or null when the server sent none. */
  certificate?: CertificateSummary | null;
  /** When accepted and the flight was read for it but gave no usable certificate: why. */
  certificateUnreadable?: string;
  /** When accepted: RFC 8446 4.1.3's sentinel says the server also speaks this newer version. */
  downgradeSentinel?: "TLSv1.3" | "TLSv1.2";
}

/**
 * What a first flight means for the version we offered, by the same rules as a full handshake
 * (handshake-errors.ts): a ServerHello for that version (or a TLS 1.3 HelloRetryRequest) is
 * accepted, a ServerHello for another version is rejected (OpenSSL calls that
 * unsupported_protocol), only the rejecting alerts are rejected, anything else is unknown.
 */
export function judgeFirstFlight(offered: TlsVersion, flight: FirstFlight): HelloJudgement {
  if (flight.kind === "garbage") return { outcome: "unknown", reason: `garbage (${flight.detail})` };
  if (flight.kind === "alert") return { outcome: REJECTING_ALERTS.has(flight.name) ? "rejected" : "unknown", reason: flight.name };
  const selected = versionForCode(flight.versionCode);
  if (selected !== offered) {
    // A version we did not even offer in legacy_version is as much a "no" for ours as a lower one.
    return { outcome: "rejected", reason: "unsupported_protocol" };
  }
  const cipher = offeredSuites(offered).get(flight.cipherSuite);
  if (cipher === undefined) {
    // OpenSSL aborts with "wrong cipher returned": the server is not answering the hello we sent.
    const code = flight.cipherSuite.toString(16).padStart(4, "0");
    return { outcome: "unknown", reason: `garbage (ServerHello picks cipher suite 0x${code}, which we did not offer)` };
  }
  const judgement: HelloJudgement = { outcome: "accepted", reason: null, cipher };
  if (flight.downgradeSentinel) judgement.downgradeSentinel = flight.downgradeSentinel;
  if (flight.certificate) Object.assign(judgement, readCertificate(flight.certificate));
  return judgement;
}

function readCertificate(found: FlightCertificate): Pick<HelloJudgement, "certificate" | "certificateUnreadable"> {
  if (found.kind === "none") return { certificate: null };
  if (found.kind === "unreadable") return { certificateUnreadable: found.detail };
  try {
    return { certificate: summarizeCertificate(new X509Certificate(found.der)) };
  } catch (error) {
    return { certificateUnreadable: `the leaf certificate does not parse (${error instanceof Error ? error.message : String(error)})` };
  }
}
