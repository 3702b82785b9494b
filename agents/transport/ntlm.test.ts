import { describe, expect, it } from "vitest";
import {
  AvId,
  createAuthenticate,
  decodeAuthenticate,
  decodeChallenge,
  decodeNegotiate,
  encodeAvPairs,
  encodeChallenge,
  encodeNegotiate,
  md4,
  NegotiateFlags,
  NtlmError,
  NtlmSession,
  ntlmv2Blob,
  ntowfv2,
  ntProofStr,
  Rc4,
} from "./ntlm";
import { createHmac } from "node:crypto";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("md4", () => {
  // RFC 1320 appendix A.5, and values from `openssl dgst -md4 -provider legacy` on this machine
  // for the padding edge cases (55, 56 and 64 bytes) and a long input.
  it.each([
    ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
    ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
    ["message digest", "d9130a8164549fe818874806e1c7014b"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "e33b4ddc9c38f2199c3e7b164fcc0536"],
    ["0".repeat(55), "5df3a07b1fca415a0d196e1cf255ec21"],
    ["0".repeat(56), "ba4591a932374808dc47c89bf7f729b3"],
    ["0".repeat(64), "8eeb1da56a848640cedd21c9665ef624"],
    ["y".repeat(100000), "0f1ac875b579745b786a2154acf0e932"],
  ])("md4(%j)", (input, expected) => {
    expect(md4(Buffer.from(input)).toString("hex")).toBe(expected);
  });

  it("gives the well-known NT hash of 'Password'", () => {
    expect(md4(Buffer.from("Password", "utf16le")).toString("hex")).toBe("a4f49c406510bdcab6824ee7c30fd852");
  });
});

describe("Rc4", () => {
  it.each([
    ["Key", "Plaintext", "bbf316e8d940af0ad3"],
    ["Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5"],
  ])("key %j encrypts %j", (key, text, expected) => {
    expect(new Rc4(Buffer.from(key)).update(Buffer.from(text)).toString("hex")).toBe(expected);
  });

  it("matches openssl's rc4 with a 128-bit key, and keeps its stream across calls", () => {
    const text = Buffer.from("The quick brown fox jumps over the lazy dog");
    const expected = "bdf425d9369770af6dfbf5b461aa446fb51ef97f98c22f9efcbecaaf9c45c376335f6b7351799b38e5385a";
    const rc4 = new Rc4(hex("000102030405060708090a0b0c0d0e0f"));
    const out = Buffer.concat([rc4.update(text.subarray(0, 10)), rc4.update(text.subarray(10))]);
    expect(out.toString("hex")).toBe(expected);
  });
});

describe("NTLMv2 against the MS-NLMP 4.2.4 example", () => {
  // [MS-NLMP] 4.2.4: User "User", domain "Domain", password "Password", server challenge
  // 0123456789abcdef, client challenge aa*8, time 0, random session key 55*16, flags e28a8233,
  // target info NbDomainName "Domain" + NbComputerName "Server".
  const serverChallenge = hex("0123456789abcdef");
  const clientChallenge = hex("aaaaaaaaaaaaaaaa");
  const targetInfo = encodeAvPairs([
    { id: AvId.NbDomainName, value: Buffer.from("Domain", "utf16le") },
    { id: AvId.NbComputerName, value: Buffer.from("Server", "utf16le") },
  ]);
  const responseKeyNt = ntowfv2("Password", "User", "Domain");
  const blob = ntlmv2Blob(Buffer.alloc(8), clientChallenge, targetInfo);
  const proof = ntProofStr(responseKeyNt, serverChallenge, blob);
  const sessionBaseKey = createHmac("md5", responseKeyNt).update(proof).digest();
  const exportedSessionKey = hex("55555555555555555555555555555555");
  const flags = 0xe28a8233;

  it("NTOWFv2 (4.2.4.1.1)", () => expect(responseKeyNt.toString("hex")).toBe("0c868a403bfd7a93a3001ef22ef02e3f"));
  it("NTProofStr (4.2.4.2.2)", () => expect(proof.toString("hex")).toBe("68cd0ab851e51c96aabc927bebef6a1c"));
  it("session base key (4.2.4.1.2)", () => expect(sessionBaseKey.toString("hex")).toBe("8de40ccadbc14a82f15cb0ad0de95ca3"));
  it("encrypted random session key (4.2.4.2.3)", () =>
    expect(new Rc4(sessionBaseKey).update(exportedSessionKey).toString("hex")).toBe("c5dad2544fc9799094ce1ce90bc9d03e"));

  it("GSS_WrapEx of 'Plaintext' (4.2.4.4)", () => {
    const client = new NtlmSession(exportedSessionKey, flags, "client");
    const { signature, sealed } = client.seal(Buffer.from("Plaintext", "utf16le"));
    expect(sealed.toString("hex")).toBe("54e50165bf1936dc996020c1811b0f06fb5f");
    expect(signature.toString("hex")).toBe("010000007fb38ec5c55d497600000000");
  });
});

describe("NTLM handshake and sealing round trip", () => {
  const challengeMsg = encodeChallenge({
    flags: (NegotiateFlags.UNICODE | NegotiateFlags.NTLM | NegotiateFlags.SIGN | NegotiateFlags.SEAL | NegotiateFlags.EXTENDED_SESSIONSECURITY |
      NegotiateFlags.TARGET_INFO | NegotiateFlags.KEY_128 | NegotiateFlags.KEY_EXCH | NegotiateFlags.KEY_56 | NegotiateFlags.ALWAYS_SIGN) >>> 0,
    serverChallenge: hex("0123456789abcdef"),
    targetName: "WIN-DOUBLE",
    targetInfo: [
      { id: AvId.NbDomainName, value: Buffer.from("WIN-DOUBLE", "utf16le") },
      { id: AvId.Timestamp, value: Buffer.alloc(8, 1) },
    ],
  });

  it("decodes what it encodes", () => {
    const neg = encodeNegotiate();
    expect(decodeNegotiate(neg).flags & NegotiateFlags.EXTENDED_SESSIONSECURITY).toBeTruthy();
    const ch = decodeChallenge(challengeMsg);
    expect(ch.targetName).toBe("WIN-DOUBLE");
    expect(ch.targetInfo.map((p) => p.id)).toEqual([AvId.NbDomainName, AvId.Timestamp]);
  });

  it("builds an AUTHENTICATE message a verifier can check, with MIC and channel bindings", () => {
    const negotiate = encodeNegotiate();
    const { authenticate, session } = createAuthenticate({ username: "WIN-DOUBLE\\Administrator", password: "Passw0rd!" }, negotiate, challengeMsg, {
      certificateHash: Buffer.alloc(32, 7),
    });
    const a = decodeAuthenticate(authenticate);
    expect(a.user).toBe("Administrator");
    expect(a.domain).toBe("WIN-DOUBLE");
    expect(a.lmResponse).toEqual(Buffer.alloc(24)); // timestamp present: Z(24)
    expect(a.mic.length).toBe(16);
    // Verify like a server: recompute the proof from the blob and the known password.
    const key = ntowfv2("Passw0rd!", a.user, a.domain);
    const proof = a.ntResponse.subarray(0, 16);
    expect(ntProofStr(key, hex("0123456789abcdef"), a.ntResponse.subarray(16))).toEqual(proof);
    const base = createHmac("md5", key).update(proof).digest();
    const esk = new Rc4(base).update(a.encryptedSessionKey);
    expect(esk).toEqual(session.exportedSessionKey);
    // Sealing both ways, several messages in sequence.
    const server = new NtlmSession(esk, a.flags, "server");
    for (const text of ["first", "second <s:Envelope/>", "x".repeat(5000)]) {
      const up = session.seal(Buffer.from(text));
      expect(server.unseal(up.signature, up.sealed).toString()).toBe(text);
      const down = server.seal(Buffer.from(`re: ${text}`));
      expect(session.unseal(down.signature, down.sealed).toString()).toBe(`re: ${text}`);
    }
  });

  it("rejects a tampered sealed message", () => {
    const key = hex("00112233445566778899aabbccddeeff");
    const f = decodeChallenge(challengeMsg).flags;
    const client = new NtlmSession(key, f, "client");
    const server = new NtlmSession(key, f, "server");
    const { signature, sealed } = client.seal(Buffer.from("reg add ..."));
    sealed[0]! ^= 1;
    expect(() => server.unseal(signature, sealed)).toThrow(NtlmError);
  });

  it("refuses a server without extended session security (NTLMv1 session security)", () => {
    const weak = encodeChallenge({ flags: NegotiateFlags.UNICODE | NegotiateFlags.NTLM, serverChallenge: Buffer.alloc(8), targetName: "", targetInfo: [] });
    expect(() => createAuthenticate({ username: "a", password: "b" }, encodeNegotiate(), weak)).toThrow(/extended session security/);
  });

  it("rejects malformed messages instead of reading past their end", () => {
    const bad = Buffer.from(challengeMsg);
    bad.writeUInt32LE(9999, 44); // target info offset beyond the end
    expect(() => decodeChallenge(bad)).toThrow(NtlmError);
    expect(() => decodeChallenge(Buffer.from("NTLMSSP\0"))).toThrow(NtlmError);
    expect(() => decodeAuthenticate(challengeMsg)).toThrow(/expected NTLM message type 3/);
  });
});
