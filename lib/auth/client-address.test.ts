// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
// Pure: the addresses below (1.2.3.4, 10.0.0.x, documentation ranges) are header and socket
// values fed to the parser; nothing here opens a connection.
import { describe, expect, it } from "vitest";
import { clientAddressFrom, peerAddress, pickClientAddress, PEER_HEADER, UNKNOWN_ADDRESS } from "./client-address";

describe("client address", () => {
  it.each([
    // [peer, X-Forwarded-For, trusted hops, expected]
    ["no proxy: the peer, whatever the client wrote", "127.0.0.1", "1.2.3.4, 5.6.7.8", 0, "127.0.0.1"],
    ["no proxy, no header", "127.0.0.1", null, 0, "127.0.0.1"],
    ["one proxy: the address it appended", "10.0.0.2", "6.6.6.6, 192.0.2.10", 1, "192.0.2.10"],
    ["two proxies", "10.0.0.2", "6.6.6.6, 192.0.2.10, 10.0.0.9", 2, "192.0.2.10"],
    ["one proxy that appended nothing: the peer's own view is all we have", "10.0.0.2", null, 1, "10.0.0.2"],
    ["more hops configured than entries: the furthest known", "10.0.0.2", "192.0.2.10", 3, "192.0.2.10"],
    ["IPv4 on a dual-stack socket", "::ffff:127.0.0.1", null, 0, "127.0.0.1"],
    ["a proxy that passed garbage", "10.0.0.2", "not-an-ip", 1, UNKNOWN_ADDRESS],
    ["no peer (not served by bin/web-server.js)", null, "1.2.3.4", 0, UNKNOWN_ADDRESS],
    ["no peer, even with trusted hops", null, "1.2.3.4", 1, UNKNOWN_ADDRESS],
  ])("%s", (_name, peer, xff, hops, expected) => {
    expect(pickClientAddress(peer, xff, hops)).toBe(expected);
  });

  it("accepts the peer header only with this process's key", () => {
    expect(peerAddress("k3y 127.0.0.1", "k3y")).toBe("127.0.0.1");
    expect(peerAddress("k3y 127.0.0.1", "other")).toBeNull();
    expect(peerAddress("127.0.0.1", "k3y")).toBeNull();
    expect(peerAddress("k3y 127.0.0.1", undefined)).toBeNull();
    expect(peerAddress("k3y nonsense", "k3y")).toBeNull();
  });

  it("reads Headers and node-style header objects alike", () => {
    const settings = { trustedHops: 0, peerKey: "k" };
    expect(clientAddressFrom(new Headers({ [PEER_HEADER]: "k ::1", "x-forwarded-for": "9.9.9.9" }), settings)).toBe("::1");
    expect(clientAddressFrom({ [PEER_HEADER]: "k 127.0.0.5", "x-forwarded-for": ["9.9.9.9"] }, settings)).toBe("127.0.0.5");
    expect(clientAddressFrom(undefined, settings)).toBe(UNKNOWN_ADDRESS);
  });
});