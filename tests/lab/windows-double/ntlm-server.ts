// TEST DOUBLE: the server (acceptor) side of NTLMv2 for the double's known accounts, as a Windows
// host verifies a local account ([MS-NLMP] 3.2.5): CHALLENGE with a timestamp, then the
// AUTHENTICATE message checked by recomputing NTProofStr from the password, the MIC, and the
// channel bindings when the client sent them (WinRM CbtHardeningLevel "Relaxed"; "Strict"
// requires them).

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  AvId,
  channelBindingsHash,
  decodeAuthenticate,
  decodeAvPairs,
  decodeNegotiate,
  encodeChallenge,
  fileTime,
  NegotiateFlags,
  NtlmSession,
  ntowfv2,
  ntProofStr,
  Rc4,
} from "../../../agents/transport/ntlm";

const SERVER_FLAGS =
  (NegotiateFlags.UNICODE |
    NegotiateFlags.SIGN |
    NegotiateFlags.SEAL |
    NegotiateFlags.NTLM |
    NegotiateFlags.ALWAYS_SIGN |
    NegotiateFlags.TARGET_TYPE_SERVER |
    NegotiateFlags.EXTENDED_SESSIONSECURITY |
    NegotiateFlags.TARGET_INFO |
    NegotiateFlags.VERSION |
    NegotiateFlags.KEY_128 |
    NegotiateFlags.KEY_EXCH |
    NegotiateFlags.KEY_56) >>>
  0;

export interface PendingChallenge {
  negotiate: Buffer;
  challenge: Buffer;
  serverChallenge: Buffer;
}

export function createChallenge(negotiateMsg: Buffer, hostname: string): PendingChallenge {
  const neg = decodeNegotiate(negotiateMsg);
  const serverChallenge = randomBytes(8);
  const nb = hostname.toUpperCase().slice(0, 15);
  const challenge = encodeChallenge({
    flags: (SERVER_FLAGS & (neg.flags | NegotiateFlags.TARGET_INFO | NegotiateFlags.TARGET_TYPE_SERVER | NegotiateFlags.VERSION)) >>> 0,
    serverChallenge,
    targetName: nb,
    targetInfo: [
      { id: AvId.NbDomainName, value: Buffer.from(nb, "utf16le") },
      { id: AvId.NbComputerName, value: Buffer.from(nb, "utf16le") },
      { id: AvId.DnsDomainName, value: Buffer.from(hostname.toLowerCase(), "utf16le") },
      { id: AvId.DnsComputerName, value: Buffer.from(hostname.toLowerCase(), "utf16le") },
      { id: AvId.Timestamp, value: fileTime(new Date()) },
    ],
  });
  return { negotiate: negotiateMsg, challenge, serverChallenge };
}

export type VerifyResult =
  | { ok: true; user: string; session: NtlmSession }
  | { ok: false; reason: string };

export function verifyAuthenticate(
  pending: PendingChallenge,
  authMsg: Buffer,
  accounts: ReadonlyMap<string, string>,
  opts: { certificateHash?: Buffer; requireChannelBinding?: boolean },
): VerifyResult {
  let a;
  try {
    a = decodeAuthenticate(authMsg);
  } catch (e) {
    return { ok: false, reason: `malformed AUTHENTICATE: ${(e as Error).message}` };
  }
  const password = [...accounts].find(([u]) => u.toLowerCase() === a.user.toLowerCase())?.[1];
  if (password === undefined) return { ok: false, reason: `unknown user ${a.user}` };
  if (a.ntResponse.length < 48) return { ok: false, reason: "not an NTLMv2 response (NTLMv1 is refused)" };
  const key = ntowfv2(password, a.user, a.domain);
  const proof = a.ntResponse.subarray(0, 16);
  const blob = a.ntResponse.subarray(16);
  if (!timingSafeEqual(ntProofStr(key, pending.serverChallenge, blob), proof)) return { ok: false, reason: "wrong password" };

  // The client's AV pairs start after version(2) + reserved(6) + time(8) + challenge(8) + Z(4).
  let pairs;
  try {
    pairs = decodeAvPairs(blob.subarray(28));
  } catch {
    return { ok: false, reason: "malformed client target info" };
  }
  const base = createHmac("md5", key).update(proof).digest();
  const esk = a.flags & NegotiateFlags.KEY_EXCH && a.encryptedSessionKey.length === 16 ? new Rc4(base).update(a.encryptedSessionKey) : base;

  const avFlags = pairs.find((p) => p.id === AvId.Flags)?.value;
  if (avFlags && avFlags.length === 4 && avFlags.readUInt32LE(0) & 0x2) {
    const zeroed = Buffer.from(authMsg);
    zeroed.fill(0, 72, 88);
    const mic = createHmac("md5", esk).update(pending.negotiate).update(pending.challenge).update(zeroed).digest();
    if (a.mic.length !== 16 || !timingSafeEqual(mic, a.mic)) return { ok: false, reason: "MIC does not verify" };
  }

  const cbt = pairs.find((p) => p.id === AvId.ChannelBindings)?.value;
  const cbtPresent = cbt !== undefined && !cbt.equals(Buffer.alloc(16));
  if (opts.certificateHash && cbtPresent && !cbt.equals(channelBindingsHash(opts.certificateHash))) {
    return { ok: false, reason: "channel binding does not match this TLS connection" };
  }
  if (opts.requireChannelBinding && !cbtPresent) return { ok: false, reason: "channel binding required" };
  return { ok: true, user: a.user, session: new NtlmSession(esk, a.flags, "server") };
}
