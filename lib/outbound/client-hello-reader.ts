// Reads the ClientHello a mail host sends to the outbound check sink: which TLS versions the
// host's client offered, before the handshake decides anything. Fed the client's bytes as TCP
// delivers them (one byte per segment, several records per segment); returns a result, asks for
// more, or reports garbage. Never throws: anything may connect to the sink.
//
// RFC 8446 4.1.2 / RFC 5246 7.4.1.2: a ClientHello carries legacy_version (the highest version
// a TLS <= 1.2 client offers) and, from TLS 1.3 clients, the supported_versions extension
// (RFC 8446 4.2.1), the exact list offered. Without the extension, the client offers
// legacy_version and, as far as the hello shows, the versions below it down to its own minimum,
// which the hello does not tell: `offered` is then null and only `highest` is known.
import { versionForCode } from "../tls/client-hello";
import type { TlsVersion } from "../tls/types";

export type ClientHelloRead =
  | {
      kind: "client-hello";
      /** The highest version offered (from supported_versions when present, else legacy_version). */
      highest: TlsVersion | "SSLv3" | null;
      /** Every version offered, when the hello lists them (supported_versions); else null. */
      offered: Array<TlsVersion | "SSLv3"> | null;
      legacyVersion: number;
    }
  | { kind: "need-more" }
  | { kind: "garbage"; detail: string };

const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SUPPORTED_VERSIONS = 43;
/** RFC 8446 5.1: a TLSPlaintext fragment is at most 2^14 bytes. */
const MAX_FRAGMENT = 16384;
/** A ClientHello larger than this is not one a mail server sends (post-quantum key shares are ~1.2 KB). */
const MAX_HELLO = 64 * 1024;
// GREASE values (RFC 8701) are 0x?A?A: offered to keep servers honest, not versions.
const isGrease = (code: number) => (code & 0x0f0f) === 0x0a0a && code >> 8 === (code & 0xff);

export class ClientHelloReader {
  private buffered = Buffer.alloc(0);
  private handshake = Buffer.alloc(0);
  private done: ClientHelloRead | null = null;

  /** Adds bytes the client sent; returns the result once known (then it never changes). */
  push(chunk: Buffer): ClientHelloRead {
    if (this.done) return this.done;
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      if (this.buffered.length < 5) return { kind: "need-more" };
      const type = this.buffered[0]!;
      const length = this.buffered.readUInt16BE(3);
      if (type !== CONTENT_HANDSHAKE) return this.finish({ kind: "garbage", detail: `not a TLS handshake record (first byte 0x${type.toString(16).padStart(2, "0")})` });
      if (length === 0 || length > MAX_FRAGMENT) return this.finish({ kind: "garbage", detail: `TLS record of ${length} bytes` });
      if (this.buffered.length < 5 + length) return { kind: "need-more" };
      this.handshake = Buffer.concat([this.handshake, this.buffered.subarray(5, 5 + length)]);
      this.buffered = this.buffered.subarray(5 + length);
      const hello = this.readHandshake();
      if (hello) return this.finish(hello);
    }
  }

  private finish(result: ClientHelloRead): ClientHelloRead {
    this.done = result;
    this.buffered = Buffer.alloc(0);
    this.handshake = Buffer.alloc(0);
    return result;
  }

  /** The ClientHello once the handshake bytes hold all of it; null while more are needed. */
  private readHandshake(): ClientHelloRead | null {
    const h = this.handshake;
    if (h.length < 4) return null;
    if (h[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: "garbage", detail: `first handshake message is type ${h[0]}, not ClientHello` };
    const length = h.readUIntBE(1, 3);
    if (length > MAX_HELLO) return { kind: "garbage", detail: `ClientHello of ${length} bytes` };
    if (h.length < 4 + length) return null;
    return parseClientHello(h.subarray(4, 4 + length));
  }
}

/** The body of a ClientHello (after the 4-byte handshake header). */
export function parseClientHello(body: Buffer): ClientHelloRead {
  const bad = (detail: string): ClientHelloRead => ({ kind: "garbage", detail: `malformed ClientHello: ${detail}` });
  let at = 0;
  const need = (n: number) => at + n <= body.length;
  if (!need(2 + 32)) return bad("too short");
  const legacyVersion = body.readUInt16BE(0);
  at = 2 + 32;
  if (!need(1)) return bad("no session id");
  at += 1 + body[at]!;
  if (!need(2)) return bad("no cipher suites");
  at += 2 + body.readUInt16BE(at);
  if (!need(1)) return bad("no compression methods");
  at += 1 + body[at]!;
  if (at > body.length) return bad("lengths run past the end");
  let offered: Array<TlsVersion | "SSLv3"> | null = null;
  if (need(2)) {
    const end = at + 2 + body.readUInt16BE(at);
    if (end > body.length) return bad("extensions run past the end");
    at += 2;
    while (at + 4 <= end) {
      const type = body.readUInt16BE(at);
      const size = body.readUInt16BE(at + 2);
      at += 4;
      if (at + size > end) return bad("an extension runs past the end");
      if (type === EXT_SUPPORTED_VERSIONS) {
        if (size < 1 || body[at]! + 1 > size || body[at]! % 2 !== 0) return bad("supported_versions");
        offered = [];
        for (let i = at + 1; i < at + 1 + body[at]!; i += 2) {
          const code = body.readUInt16BE(i);
          const version = isGrease(code) ? null : versionForCode(code);
          if (version && !offered.includes(version)) offered.push(version);
        }
      }
      at += size;
    }
  }
  const highest = offered ? highestOf(offered) : versionForCode(legacyVersion);
  return { kind: "client-hello", highest, offered, legacyVersion };
}

const ORDER: ReadonlyArray<TlsVersion | "SSLv3"> = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

function highestOf(versions: ReadonlyArray<TlsVersion | "SSLv3">): TlsVersion | "SSLv3" | null {
  let best: TlsVersion | "SSLv3" | null = null;
  for (const v of versions) if (best === null || ORDER.indexOf(v) > ORDER.indexOf(best)) best = v;
  return best;
}
