import { describe, expect, it } from "vitest";
import { classifyHandshakeError } from "./handshake-errors";

function nodeError(code: string, message = "", reason?: string): Error {
  return Object.assign(new Error(message), { code, ...(reason ? { reason } : {}) });
}

// Codes and messages as Node 20 / OpenSSL 3.0 report them (seen against Node TLS servers and
// raw sockets on loopback).
describe("classifyHandshakeError", () => {
  it.each([
    ["ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", "rejected", "protocol_version"],
    ["ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", "rejected", "handshake_failure"],
    ["ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY", "rejected", "insufficient_security"],
    ["ERR_SSL_UNSUPPORTED_PROTOCOL", "rejected", "unsupported_protocol"],
    ["ERR_SSL_NO_PROTOCOLS_AVAILABLE", "rejected", "no_protocols_available"],
    ["ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR", "unknown", "internal_error"],
    ["ERR_SSL_TLSV1_ALERT_DECODE_ERROR", "unknown", "decode_error"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "unknown", "garbage (wrong version number)"],
    ["ETIMEDOUT", "unknown", "timeout"],
    ["EPIPE", "unknown", "reset"],
  ] as const)("%s -> %s (%s)", (code, outcome, reason) => {
    expect(classifyHandshakeError(nodeError(code))).toEqual({ outcome, reason });
  });

  it("tells a peer's close from a reset, and calls neither rejected", () => {
    const closed = nodeError("ECONNRESET", "Client network socket disconnected before secure TLS connection was established");
    expect(classifyHandshakeError(closed)).toEqual({ outcome: "unknown", reason: "closed" });
    expect(classifyHandshakeError(nodeError("ECONNRESET", "read ECONNRESET"))).toEqual({ outcome: "unknown", reason: "reset" });
  });

  it("calls other OpenSSL failures garbage with OpenSSL's own words", () => {
    expect(classifyHandshakeError(nodeError("ERR_SSL_UNEXPECTED_MESSAGE", "", "unexpected message"))).toEqual({
      outcome: "unknown",
      reason: "garbage (unexpected message)",
    });
    expect(classifyHandshakeError(nodeError("ERR_SSL_PACKET_LENGTH_TOO_LONG"))).toEqual({ outcome: "unknown", reason: "garbage (packet length too long)" });
  });

  it("never throws on odd input", () => {
    for (const odd of [undefined, null, 42, "text", {}, { code: 7 }, new Error("plain")]) {
      expect(classifyHandshakeError(odd).outcome).toBe("unknown");
    }
  });
});
