// Reads a server's first answer to our ClientHello, whatever TCP does to it (one byte per segment,
// several records per segment) and whatever the peer sends instead (HTTP, a banner, random
// bytes): it only ever returns a result, asks for more, or reports garbage. Never throws.
import { offeredSuites, versionForCode } from "./client-hello";
import { REJECTING_ALERTS } from "./handshake-errors";
import type { Outcome, TlsVersion } from "./types";

/** What the first records of the server's reply say. */
export type FirstFlight =
  | {
      kind: "server-hello";
      /** The version the server selected: supported_versions when present, else legacy_version. */
      versionCode: number;
      cipherSuite: number;
      /** A TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3): the server takes 1.3 but wants another key share. */
      helloRetry: boolean;
    }
  | { kind: "alert"; level: number; description: number; name: string }
  | { kind: "garbage"; detail: string };

/** The most we read looking for a ServerHello: real ones are a few hundred bytes. */
export const DEFAULT_FIRST_FLIGHT_CAP = 32 * 1024;

const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_HELLO_REQUEST = 0;
const HANDSHAKE_SERVER_HELLO = 2;
const EXT_SUPPORTED_VERSIONS = 43;
/** RFC 5246 6.2.3: a TLSCiphertext is at most 2^14 + 2048 bytes. */
const MAX_RECORD = 16384 + 2048;
// RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random.
const HELLO_RETRY_RANDOM = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");

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
  private handshake = Buffer.alloc(0);
  private received = 0;
  private answer: FirstFlight | null = null;

  constructor(private readonly maxBytes = DEFAULT_FIRST_FLIGHT_CAP) {}

  /** Bytes pushed so far. */
  get bytesReceived(): number {
    return this.received;
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
    if (!this.answer && this.received > this.maxBytes) this.answer = { kind: "garbage", detail: `no ServerHello within ${this.maxBytes} bytes` };
    return this.answer;
  }

  private parse(): FirstFlight | null {
    for (;;) {
      const r = this.records;
      // A whole record header before judging, so the answer (and the bytes it quotes) is the
      // same however TCP cut the stream.
      if (r.length < 5) return null;
      if ((r[0] !== CONTENT_HANDSHAKE && r[0] !== CONTENT_ALERT) || r[1] !== 0x03 || r[2]! > 0x04) return garbage("not a TLS record", r);
      const length = r.readUInt16BE(3);
      if (length === 0 || length > MAX_RECORD) return garbage(`record length ${length}`, r);
      if (r.length < 5 + length) return null;
      const body = r.subarray(5, 5 + length);
      this.records = r.subarray(5 + length);

      if (r[0] === CONTENT_ALERT) {
        if (length !== 2) return garbage(`alert record of ${length} bytes`, r);
        const [level, description] = [body[0]!, body[1]!];
        // A warning-level unrecognized_name before the ServerHello is how some servers say "no
        // certificate for that SNI name"; the handshake goes on.
        if (level === 1 && description === 112) continue;
        return { kind: "alert", level, description, name: alertName(description) };
      }

      this.handshake = this.handshake.length === 0 ? Buffer.from(body) : Buffer.concat([this.handshake, body]);
      for (;;) {
        const h = this.handshake;
        if (h.length < 4) break;
        const type = h[0]!;
        const messageLength = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
        if (type === HANDSHAKE_HELLO_REQUEST && messageLength === 0) {
          // RFC 5246 7.4.1.1: a client in the middle of a handshake ignores HelloRequest.
          this.handshake = h.subarray(4);
          continue;
        }
        if (type !== HANDSHAKE_SERVER_HELLO) return { kind: "garbage", detail: `handshake message ${type} where a ServerHello belongs` };
        if (messageLength > this.maxBytes) return { kind: "garbage", detail: `ServerHello of ${messageLength} bytes` };
        if (h.length < 4 + messageLength) break;
        return parseServerHello(h.subarray(4, 4 + messageLength));
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
  return { kind: "server-hello", versionCode, cipherSuite, helloRetry };
}

export interface HelloJudgement {
  outcome: Outcome;
  /** null when accepted. */
  reason: string | null;
  /** OpenSSL's name for the suite the server picked, when accepted. */
  cipher?: string;
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
  return { outcome: "accepted", reason: null, cipher };
}
