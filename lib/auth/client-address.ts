// Who is on the other end of a request, for the sign-in limits and the audit trail.
//
// X-Forwarded-For is written by whoever sends the request: with no proxy in front, a client sets
// it to anything, and Next only fills it in when it is absent (base-server.js `??=`), so no entry
// of it can be trusted by default. The TCP peer address can: bin/web-server.js, the server
// `tlsfleet start` runs, puts it in PEER_HEADER on every request, overwriting whatever the client
// sent, prefixed with a per-process random key (TLSFLEET_PEER_KEY) so a value that did not come
// from that server (e.g. under a bare `next start`) is recognisably not it.
//
// Behind N trusted reverse proxies (TLSFLEET_TRUSTED_PROXY_HOPS=N), each proxy appends the
// address it saw, so the client is the N-th address counted from the peer backwards; entries
// further left were written by the client and are ignored.
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export const PEER_HEADER = "x-tlsfleet-peer";
export const UNKNOWN_ADDRESS = "unknown";

type HeaderBag = Headers | Record<string, string | string[] | undefined> | undefined;

function header(headers: HeaderBag, name: string): string | null {
  if (!headers) return null;
  if (headers instanceof Headers) return headers.get(name);
  const raw = headers[name];
  return Array.isArray(raw) ? raw.join(",") : (raw ?? null);
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
function normalise(address: string): string {
  const a = address.trim().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1] : a.toLowerCase();
}

/** The peer address PEER_HEADER carries, or null when it is missing or not from our server. */
export function peerAddress(value: string | null, key: string | undefined): string | null {
  if (!value || !key) return null;
  const space = value.indexOf(" ");
  if (space <= 0) return null;
  const given = Buffer.from(value.slice(0, space));
  const expected = Buffer.from(key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const address = normalise(value.slice(space + 1));
  return isIP(address) ? address : null;
}

/**
 * Pure: the client's address from the TCP peer and X-Forwarded-For, trusting `trustedHops`
 * proxies. Without a known peer the answer is UNKNOWN_ADDRESS (then only the per-account limit
 * tells attempts apart), never a header value.
 */
export function pickClientAddress(peer: string | null, forwardedFor: string | null, trustedHops: number): string {
  if (!peer) return UNKNOWN_ADDRESS;
  if (trustedHops <= 0) return normalise(peer);
  const chain = [...(forwardedFor ?? "").split(",").map((s) => s.trim()).filter(Boolean), peer];
  // chain[last] is the peer (proxy 1); each trusted proxy vouches for the entry before it.
  const candidate = chain[Math.max(0, chain.length - 1 - trustedHops)];
  const address = normalise(candidate);
  return isIP(address) ? address : UNKNOWN_ADDRESS;
}

export function clientAddressFrom(headers: HeaderBag, settings: { trustedHops: number; peerKey: string | undefined }): string {
  return pickClientAddress(peerAddress(header(headers, PEER_HEADER), settings.peerKey), header(headers, "x-forwarded-for"), settings.trustedHops);
}
