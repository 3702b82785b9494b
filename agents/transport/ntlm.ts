// NTLMv2 (MS-NLMP) for WinRM: the client handshake, the message codecs the test double's verifier
// also uses, and message sealing (confidentiality + integrity) for WinRM over plain HTTP.
//
// Node 20's OpenSSL 3 refuses MD4 and RC4 without the legacy provider, and turning that provider
// on for the whole process would weaken everything else, so both are
// implemented here in a few lines each; HMAC-MD5 and MD5 still come from node:crypto.
// Section numbers below refer to [MS-NLMP] "NT LAN Manager (NTLM) Authentication Protocol".

import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// ---------------------------------------------------------------------------------------------
// MD4 (RFC 1320) and RC4

export function md4(input: Uint8Array): Buffer {
  const len = input.length;
  const padded = Buffer.alloc((((len + 8) >> 6) + 1) << 6);
  padded.set(input);
  padded[len] = 0x80;
  // Length in bits, 64-bit little endian.
  padded.writeUInt32LE((len * 8) >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(len / 0x20000000), padded.length - 4);

  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  const rotl = (v: number, s: number) => (v << s) | (v >>> (32 - s));
  const f = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const g = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const h = (p: number, q: number, r: number) => p ^ q ^ r;

  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const r1 = (p: number, q: number, r: number, s: number, k: number, sh: number) => rotl((p + f(q, r, s) + x[k]!) | 0, sh);
    const r2 = (p: number, q: number, r: number, s: number, k: number, sh: number) =>
      rotl((p + g(q, r, s) + x[k]! + 0x5a827999) | 0, sh);
    const r3 = (p: number, q: number, r: number, s: number, k: number, sh: number) =>
      rotl((p + h(q, r, s) + x[k]! + 0x6ed9eba1) | 0, sh);
    for (const k of [0, 4, 8, 12]) {
      a = r1(a, b, c, d, k, 3);
      d = r1(d, a, b, c, k + 1, 7);
      c = r1(c, d, a, b, k + 2, 11);
      b = r1(b, c, d, a, k + 3, 19);
    }
    for (const k of [0, 1, 2, 3]) {
      a = r2(a, b, c, d, k, 3);
      d = r2(d, a, b, c, k + 4, 5);
      c = r2(c, d, a, b, k + 8, 9);
      b = r2(b, c, d, a, k + 12, 13);
    }
    for (const k of [0, 2, 1, 3]) {
      a = r3(a, b, c, d, k, 3);
      d = r3(d, a, b, c, k + 8, 9);
      c = r3(c, d, a, b, k + 4, 11);
      b = r3(b, c, d, a, k + 12, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  out.writeInt32LE(a, 0);
  out.writeInt32LE(b, 4);
  out.writeInt32LE(c, 8);
  out.writeInt32LE(d, 12);
  return out;
}

/** A stateful RC4 keystream: NTLM sealing keeps one per direction for the whole session. */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0) throw new Error("RC4 key must not be empty");
    for (let n = 0; n < 256; n++) this.s[n] = n;
    let j = 0;
    for (let n = 0; n < 256; n++) {
      j = (j + this.s[n]! + key[n % key.length]!) & 0xff;
      [this.s[n], this.s[j]] = [this.s[j]!, this.s[n]!];
    }
  }

  update(data: Uint8Array): Buffer {
    const out = Buffer.alloc(data.length);
    const s = this.s;
    for (let n = 0; n < data.length; n++) {
      this.i = (this.i + 1) & 0xff;
      this.j = (this.j + s[this.i]!) & 0xff;
      [s[this.i], s[this.j]] = [s[this.j]!, s[this.i]!];
      out[n] = data[n]! ^ s[(s[this.i]! + s[this.j]!) & 0xff]!;
    }
    return out;
  }
}

const hmacMd5 = (key: Uint8Array, ...data: Uint8Array[]) => {
  const h = createHmac("md5", key);
  for (const d of data) h.update(d);
  return h.digest();
};
const md5 = (...data: Uint8Array[]) => {
  const h = createHash("md5");
  for (const d of data) h.update(d);
  return h.digest();
};
const utf16 = (s: string) => Buffer.from(s, "utf16le");

// ---------------------------------------------------------------------------------------------
// Flags and AV pairs (2.2.2.5, 2.2.2.1)

export const NegotiateFlags = {
  UNICODE: 0x00000001,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  KEY_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  KEY_56: 0x80000000,
} as const;

/** What we ask for: NTLMv2 with extended session security, 128-bit keys and key exchange, so
 *  the session keys are usable for WinRM message encryption over HTTP. */
export const CLIENT_FLAGS =
  (NegotiateFlags.UNICODE |
    NegotiateFlags.REQUEST_TARGET |
    NegotiateFlags.SIGN |
    NegotiateFlags.SEAL |
    NegotiateFlags.NTLM |
    NegotiateFlags.ALWAYS_SIGN |
    NegotiateFlags.EXTENDED_SESSIONSECURITY |
    NegotiateFlags.VERSION |
    NegotiateFlags.KEY_128 |
    NegotiateFlags.KEY_EXCH |
    NegotiateFlags.KEY_56) >>>
  0;

export const AvId = {
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10,
} as const;

export interface AvPair {
  id: number;
  value: Buffer;
}

export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    if (p.id === AvId.EOL) continue;
    const head = Buffer.alloc(4);
    head.writeUInt16LE(p.id, 0);
    head.writeUInt16LE(p.value.length, 2);
    parts.push(head, p.value);
  }
  parts.push(Buffer.alloc(4)); // MsvAvEOL
  return Buffer.concat(parts);
}

export function decodeAvPairs(buf: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const id = buf.readUInt16LE(off);
    const len = buf.readUInt16LE(off + 2);
    off += 4;
    if (id === AvId.EOL) return pairs;
    if (off + len > buf.length) throw new NtlmError("AV pair runs past the end of the target info");
    pairs.push({ id, value: Buffer.from(buf.subarray(off, off + len)) });
    off += len;
  }
  throw new NtlmError("target info has no terminating MsvAvEOL");
}

export class NtlmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NtlmError";
  }
}

// ---------------------------------------------------------------------------------------------
// Message codecs (2.2.1)

const SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");
// Version structure (2.2.2.10): 10.0 build 17763, NTLMSSP revision 15. Informational only.
const VERSION = Buffer.from([10, 0, 0x63, 0x45, 0, 0, 0, 15]);

function checkHeader(buf: Buffer, type: number): void {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new NtlmError("not an NTLMSSP message");
  const t = buf.readUInt32LE(8);
  if (t !== type) throw new NtlmError(`expected NTLM message type ${type}, got ${t}`);
}

function readField(buf: Buffer, at: number): Buffer {
  if (at + 8 > buf.length) throw new NtlmError("NTLM message too short");
  const len = buf.readUInt16LE(at);
  const off = buf.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (off + len > buf.length) throw new NtlmError("NTLM field points past the end of the message");
  return Buffer.from(buf.subarray(off, off + len));
}

/** Lays out fixed header + payload fields, filling each field descriptor at its offset. */
function layout(header: Buffer, fields: Array<{ at: number; data: Buffer }>): Buffer {
  let offset = header.length;
  for (const f of fields) {
    header.writeUInt16LE(f.data.length, f.at);
    header.writeUInt16LE(f.data.length, f.at + 2);
    header.writeUInt32LE(offset, f.at + 4);
    offset += f.data.length;
  }
  return Buffer.concat([header, ...fields.map((f) => f.data)]);
}

export interface NegotiateMessage {
  flags: number;
}

export function encodeNegotiate(flags = CLIENT_FLAGS): Buffer {
  const h = Buffer.alloc(40);
  SIGNATURE.copy(h, 0);
  h.writeUInt32LE(1, 8);
  h.writeUInt32LE(flags >>> 0, 12);
  // Domain and workstation fields stay empty (offset 40, length 0).
  h.writeUInt32LE(40, 20);
  h.writeUInt32LE(40, 28);
  VERSION.copy(h, 32);
  return h;
}

export function decodeNegotiate(buf: Buffer): NegotiateMessage {
  checkHeader(buf, 1);
  if (buf.length < 16) throw new NtlmError("NTLM negotiate message too short");
  return { flags: buf.readUInt32LE(12) };
}

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: AvPair[];
  /** The raw message, needed for the MIC. */
  raw: Buffer;
}

export function encodeChallenge(c: { flags: number; serverChallenge: Buffer; targetName: string; targetInfo: AvPair[] }): Buffer {
  const h = Buffer.alloc(56);
  SIGNATURE.copy(h, 0);
  h.writeUInt32LE(2, 8);
  h.writeUInt32LE(c.flags >>> 0, 20);
  c.serverChallenge.copy(h, 24);
  VERSION.copy(h, 48);
  return layout(h, [
    { at: 12, data: utf16(c.targetName) },
    { at: 40, data: encodeAvPairs(c.targetInfo) },
  ]);
}

export function decodeChallenge(buf: Buffer): ChallengeMessage {
  checkHeader(buf, 2);
  if (buf.length < 48) throw new NtlmError("NTLM challenge message too short");
  const flags = buf.readUInt32LE(20);
  const targetInfoRaw = readField(buf, 40);
  return {
    flags,
    serverChallenge: Buffer.from(buf.subarray(24, 32)),
    targetName: readField(buf, 12).toString(flags & NegotiateFlags.UNICODE ? "utf16le" : "latin1"),
    targetInfo: targetInfoRaw.length > 0 ? decodeAvPairs(targetInfoRaw) : [],
    raw: Buffer.from(buf),
  };
}

export interface AuthenticateMessage {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedSessionKey: Buffer;
  mic: Buffer;
  raw: Buffer;
}

const MIC_OFFSET = 72;

export function encodeAuthenticate(a: Omit<AuthenticateMessage, "raw" | "mic">): Buffer {
  const h = Buffer.alloc(88);
  SIGNATURE.copy(h, 0);
  h.writeUInt32LE(3, 8);
  h.writeUInt32LE(a.flags >>> 0, 60);
  VERSION.copy(h, 64);
  // MIC (16 bytes at 72) stays zero here; the caller computes it over this message.
  return layout(h, [
    { at: 12, data: a.lmResponse },
    { at: 20, data: a.ntResponse },
    { at: 28, data: utf16(a.domain) },
    { at: 36, data: utf16(a.user) },
    { at: 44, data: utf16(a.workstation) },
    { at: 52, data: a.encryptedSessionKey },
  ]);
}

export function decodeAuthenticate(buf: Buffer): AuthenticateMessage {
  checkHeader(buf, 3);
  if (buf.length < 64) throw new NtlmError("NTLM authenticate message too short");
  const flags = buf.readUInt32LE(60);
  const enc = flags & NegotiateFlags.UNICODE ? "utf16le" : "latin1";
  // The MIC is present when the payload starts at or after 88 (Version + MIC follow the fields).
  const firstPayload = Math.min(
    ...[12, 20, 28, 36, 44, 52].map((at) => (buf.readUInt16LE(at) > 0 ? buf.readUInt32LE(at + 4) : buf.length)),
  );
  const mic = firstPayload >= 88 ? Buffer.from(buf.subarray(MIC_OFFSET, MIC_OFFSET + 16)) : Buffer.alloc(0);
  return {
    flags,
    lmResponse: readField(buf, 12),
    ntResponse: readField(buf, 20),
    domain: readField(buf, 28).toString(enc),
    user: readField(buf, 36).toString(enc),
    workstation: readField(buf, 44).toString(enc),
    encryptedSessionKey: readField(buf, 52),
    mic,
    raw: Buffer.from(buf),
  };
}

// ---------------------------------------------------------------------------------------------
// NTLMv2 computation (3.3.2)

export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(utf16(password)), utf16(user.toUpperCase() + domain));
}

/** FILETIME: 100 ns intervals since 1601-01-01, little endian. */
export function fileTime(date: Date): Buffer {
  const t = (BigInt(date.getTime()) + 11_644_473_600_000n) * 10_000n;
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(t);
  return b;
}

/** The NTLMv2 client blob ("temp" in 3.3.2): version, time, client challenge, target info. */
export function ntlmv2Blob(time: Buffer, clientChallenge: Buffer, targetInfo: Buffer): Buffer {
  return Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), time, clientChallenge, Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
}

export function ntProofStr(responseKeyNt: Buffer, serverChallenge: Buffer, blob: Buffer): Buffer {
  return hmacMd5(responseKeyNt, serverChallenge, blob);
}

/** "tls-server-end-point" channel binding (RFC 5929) folded into MsvAvChannelBindings: the MD5 of
 *  a gss_channel_bindings_struct whose application data is the prefix plus the certificate hash.
 *  WinRM checks it when CbtHardeningLevel is Strict (and, if sent, when Relaxed). */
export function channelBindingsHash(certificateHash: Buffer): Buffer {
  const appData = Buffer.concat([Buffer.from("tls-server-end-point:", "ascii"), certificateHash]);
  const struct = Buffer.alloc(20);
  struct.writeUInt32LE(appData.length, 16);
  return md5(struct, appData);
}

export interface ClientCredentials {
  username: string;
  password: string;
  /** NetBIOS domain; "" for a local account. "DOMAIN\\user" in username is split here too. */
  domain?: string;
  workstation?: string;
}

export function splitDomainUser(c: ClientCredentials): { user: string; domain: string } {
  if (c.domain !== undefined) return { user: c.username, domain: c.domain };
  const slash = c.username.indexOf("\\");
  if (slash >= 0) return { domain: c.username.slice(0, slash), user: c.username.slice(slash + 1) };
  return { user: c.username, domain: "" };
}

export interface ClientAuthResult {
  authenticate: Buffer;
  session: NtlmSession;
}

/** For tests: fixed randomness so MS-NLMP's 4.2.4 example values can be reproduced. */
export interface NtlmRandomness {
  clientChallenge?: Buffer;
  exportedSessionKey?: Buffer;
  time?: Buffer;
}

/** Builds the AUTHENTICATE message for a CHALLENGE (3.1.5.1.2), with a MIC and, when a TLS
 *  certificate hash is given, channel bindings. */
export function createAuthenticate(
  creds: ClientCredentials,
  negotiate: Buffer,
  challengeRaw: Buffer,
  opts: { certificateHash?: Buffer; targetSpn?: string; random?: NtlmRandomness } = {},
): ClientAuthResult {
  const challenge = decodeChallenge(challengeRaw);
  if (!(challenge.flags & NegotiateFlags.EXTENDED_SESSIONSECURITY)) {
    // Without it the server would fall back to NTLMv1 session security; we never do that.
    throw new NtlmError("the server does not offer NTLM extended session security (NTLMv1 only?)");
  }
  const flags = (challenge.flags & CLIENT_FLAGS) >>> 0;
  const { user, domain } = splitDomainUser(creds);
  const responseKeyNt = ntowfv2(creds.password, user, domain);
  const clientChallenge = opts.random?.clientChallenge ?? randomBytes(8);

  const serverTimestamp = challenge.targetInfo.find((p) => p.id === AvId.Timestamp)?.value;
  const time = opts.random?.time ?? serverTimestamp ?? fileTime(new Date());

  // Our copy of the target info: the server's pairs, MsvAvFlags bit 0x2 ("MIC present"), the
  // channel bindings and target SPN, as Windows clients send them (3.1.5.1.2).
  const pairs = challenge.targetInfo.filter((p) => p.id !== AvId.Flags && p.id !== AvId.ChannelBindings && p.id !== AvId.TargetName);
  const oldFlags = challenge.targetInfo.find((p) => p.id === AvId.Flags)?.value;
  const avFlags = Buffer.alloc(4);
  avFlags.writeUInt32LE(((oldFlags && oldFlags.length === 4 ? oldFlags.readUInt32LE(0) : 0) | 0x2) >>> 0);
  pairs.push({ id: AvId.Flags, value: avFlags });
  if (opts.certificateHash) pairs.push({ id: AvId.ChannelBindings, value: channelBindingsHash(opts.certificateHash) });
  if (opts.targetSpn) pairs.push({ id: AvId.TargetName, value: utf16(opts.targetSpn) });

  const blob = ntlmv2Blob(time, clientChallenge, encodeAvPairs(pairs));
  const proof = ntProofStr(responseKeyNt, challenge.serverChallenge, blob);
  const ntResponse = Buffer.concat([proof, blob]);
  const sessionBaseKey = hmacMd5(responseKeyNt, proof);
  // With MsvAvTimestamp in the challenge the client sends Z(24) as LM response (3.1.5.1.2).
  const lmResponse = serverTimestamp
    ? Buffer.alloc(24)
    : Buffer.concat([hmacMd5(responseKeyNt, challenge.serverChallenge, clientChallenge), clientChallenge]);

  // NTLMv2: KeyExchangeKey = SessionBaseKey (3.4.5.1).
  let exportedSessionKey: Buffer = sessionBaseKey;
  let encryptedSessionKey: Buffer = Buffer.alloc(0);
  if (flags & NegotiateFlags.KEY_EXCH) {
    exportedSessionKey = opts.random?.exportedSessionKey ?? randomBytes(16);
    encryptedSessionKey = new Rc4(sessionBaseKey).update(exportedSessionKey);
  }

  const authenticate = encodeAuthenticate({
    flags,
    lmResponse,
    ntResponse,
    domain,
    user,
    workstation: creds.workstation ?? "TLSFLEET",
    encryptedSessionKey,
  });
  hmacMd5(exportedSessionKey, negotiate, challengeRaw, authenticate).copy(authenticate, MIC_OFFSET);
  return { authenticate, session: new NtlmSession(exportedSessionKey, flags, "client") };
}

// ---------------------------------------------------------------------------------------------
// Session security: sign and seal (3.4)

const MAGIC = {
  clientSign: "session key to client-to-server signing key magic constant\0",
  serverSign: "session key to server-to-client signing key magic constant\0",
  clientSeal: "session key to client-to-server sealing key magic constant\0",
  serverSeal: "session key to server-to-client sealing key magic constant\0",
};

function sealKey(exportedSessionKey: Buffer, flags: number, magic: string): Buffer {
  let key = exportedSessionKey;
  if (!(flags & NegotiateFlags.KEY_128)) key = key.subarray(0, flags & NegotiateFlags.KEY_56 ? 7 : 5);
  return md5(key, Buffer.from(magic, "latin1"));
}

/** One direction-aware NTLM security context. Sequence numbers and RC4 streams advance with each
 *  message, so messages must be sealed and unsealed in the order they travel. */
export class NtlmSession {
  private readonly outSign: Buffer;
  private readonly inSign: Buffer;
  private readonly outSeal: Rc4;
  private readonly inSeal: Rc4;
  private outSeq = 0;
  private inSeq = 0;
  readonly flags: number;
  readonly exportedSessionKey: Buffer;

  constructor(exportedSessionKey: Buffer, flags: number, role: "client" | "server") {
    if (!(flags & NegotiateFlags.EXTENDED_SESSIONSECURITY)) throw new NtlmError("sealing needs extended session security");
    this.flags = flags;
    this.exportedSessionKey = exportedSessionKey;
    const mine = role === "client" ? "client" : "server";
    const theirs = role === "client" ? "server" : "client";
    this.outSign = md5(exportedSessionKey, Buffer.from(MAGIC[`${mine}Sign`], "latin1"));
    this.inSign = md5(exportedSessionKey, Buffer.from(MAGIC[`${theirs}Sign`], "latin1"));
    this.outSeal = new Rc4(sealKey(exportedSessionKey, flags, MAGIC[`${mine}Seal`]));
    this.inSeal = new Rc4(sealKey(exportedSessionKey, flags, MAGIC[`${theirs}Seal`]));
  }

  private mac(rc4: Rc4, signKey: Buffer, seq: number, message: Buffer): Buffer {
    const seqBuf = Buffer.alloc(4);
    seqBuf.writeUInt32LE(seq);
    let checksum: Buffer = hmacMd5(signKey, seqBuf, message).subarray(0, 8);
    if (this.flags & NegotiateFlags.KEY_EXCH) checksum = rc4.update(checksum);
    return Buffer.concat([Buffer.from([1, 0, 0, 0]), checksum, seqBuf]);
  }

  /** GSS_WrapEx: returns the 16-byte signature and the sealed message (3.4.3). */
  seal(message: Buffer): { signature: Buffer; sealed: Buffer } {
    const sealed = this.outSeal.update(message);
    const signature = this.mac(this.outSeal, this.outSign, this.outSeq, message);
    this.outSeq++;
    return { signature, sealed };
  }

  /** GSS_UnwrapEx: decrypts and verifies; throws on a bad signature or an out-of-order message. */
  unseal(signature: Buffer, sealed: Buffer): Buffer {
    if (signature.length !== 16) throw new NtlmError("NTLM signature must be 16 bytes");
    const message = this.inSeal.update(sealed);
    const expected = this.mac(this.inSeal, this.inSign, this.inSeq, message);
    if (!timingSafeEqual(expected, signature)) {
      throw new NtlmError("NTLM message signature does not verify (tampered, or out of sequence)");
    }
    this.inSeq++;
    return message;
  }
}
