// A hand-built ClientHello restricted to exactly one TLS version, for the "hello" probing mode:
// the server's answer to it (ServerHello or alert) says whether it accepts that version without
// either side finishing a handshake, as sslscan, testssl.sh and sslyze do.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { TlsVersion } from "./types";

/** Wire codes (RFC 8446 4.2.1, RFC 5246 6.2.1). */
export const VERSION_CODE: Readonly<Record<TlsVersion, number>> = {
  TLSv1: 0x0301,
  "TLSv1.1": 0x0302,
  "TLSv1.2": 0x0303,
  "TLSv1.3": 0x0304,
};

export function versionForCode(code: number): TlsVersion | "SSLv3" | null {
  if (code === 0x0300) return "SSLv3";
  for (const [version, value] of Object.entries(VERSION_CODE)) if (value === code) return version as TlsVersion;
  return null;
}

/**
 * Suites offered for TLS 1.0-1.2, IANA code -> the name OpenSSL (and so Node's getCipher().name)
 * gives it, so that hello and full mode report ciphers alike. Order is our preference, which is
 * what servers with client preference (Postfix tls_preempt_cipherlist=no, nginx's default) pick
 * by: forward-secret AEAD first, legacy last. PSK and SRP suites are left out (no server can pick
 * them for a client without out-of-band keys), and so are NULL-encryption and export suites.
 * Legacy suites that OpenSSL 3 no longer builds (3DES, RC4, SEED, IDEA, static ECDH) are offered
 * on purpose: an old server that speaks only those still answers with its version. Their names
 * are OpenSSL 1.1.1's.
 */
export const LEGACY_SUITES: ReadonlyMap<number, string> = new Map([
  // The head of Node's default list (tls.DEFAULT_CIPHERS); offeredSuites() moves plain RSA
  // key exchange in front of it.
  [0xc02f, "ECDHE-RSA-AES128-GCM-SHA256"],
  [0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256"],
  [0xc030, "ECDHE-RSA-AES256-GCM-SHA384"],
  [0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384"],
  [0x009e, "DHE-RSA-AES128-GCM-SHA256"],
  [0xc027, "ECDHE-RSA-AES128-SHA256"],
  [0x0067, "DHE-RSA-AES128-SHA256"],
  [0xc028, "ECDHE-RSA-AES256-SHA384"],
  [0x006b, "DHE-RSA-AES256-SHA256"],
  [0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305"],
  [0xcca8, "ECDHE-RSA-CHACHA20-POLY1305"],
  [0x009f, "DHE-RSA-AES256-GCM-SHA384"],
  [0x00a3, "DHE-DSS-AES256-GCM-SHA384"],
  [0x00a2, "DHE-DSS-AES128-GCM-SHA256"],
  [0xccaa, "DHE-RSA-CHACHA20-POLY1305"],
  [0xc0ad, "ECDHE-ECDSA-AES256-CCM"],
  [0xc0ac, "ECDHE-ECDSA-AES128-CCM"],
  [0xc0af, "ECDHE-ECDSA-AES256-CCM8"],
  [0xc0ae, "ECDHE-ECDSA-AES128-CCM8"],
  [0xc09f, "DHE-RSA-AES256-CCM"],
  [0xc09e, "DHE-RSA-AES128-CCM"],
  [0xc0a3, "DHE-RSA-AES256-CCM8"],
  [0xc0a2, "DHE-RSA-AES128-CCM8"],
  [0xc05d, "ECDHE-ECDSA-ARIA256-GCM-SHA384"],
  [0xc05c, "ECDHE-ECDSA-ARIA128-GCM-SHA256"],
  [0xc061, "ECDHE-ARIA256-GCM-SHA384"],
  [0xc060, "ECDHE-ARIA128-GCM-SHA256"],
  [0xc053, "DHE-RSA-ARIA256-GCM-SHA384"],
  [0xc052, "DHE-RSA-ARIA128-GCM-SHA256"],
  [0xc057, "DHE-DSS-ARIA256-GCM-SHA384"],
  [0xc056, "DHE-DSS-ARIA128-GCM-SHA256"],
  [0xc024, "ECDHE-ECDSA-AES256-SHA384"],
  [0xc023, "ECDHE-ECDSA-AES128-SHA256"],
  [0xc073, "ECDHE-ECDSA-CAMELLIA256-SHA384"],
  [0xc077, "ECDHE-RSA-CAMELLIA256-SHA384"],
  [0xc072, "ECDHE-ECDSA-CAMELLIA128-SHA256"],
  [0xc076, "ECDHE-RSA-CAMELLIA128-SHA256"],
  [0x006a, "DHE-DSS-AES256-SHA256"],
  [0x0040, "DHE-DSS-AES128-SHA256"],
  [0x00c4, "DHE-RSA-CAMELLIA256-SHA256"],
  [0x00be, "DHE-RSA-CAMELLIA128-SHA256"],
  [0x00c3, "DHE-DSS-CAMELLIA256-SHA256"],
  [0x00bd, "DHE-DSS-CAMELLIA128-SHA256"],
  [0xc00a, "ECDHE-ECDSA-AES256-SHA"],
  [0xc014, "ECDHE-RSA-AES256-SHA"],
  [0xc009, "ECDHE-ECDSA-AES128-SHA"],
  [0xc013, "ECDHE-RSA-AES128-SHA"],
  [0x0039, "DHE-RSA-AES256-SHA"],
  [0x0033, "DHE-RSA-AES128-SHA"],
  [0x0038, "DHE-DSS-AES256-SHA"],
  [0x0032, "DHE-DSS-AES128-SHA"],
  [0x0088, "DHE-RSA-CAMELLIA256-SHA"],
  [0x0045, "DHE-RSA-CAMELLIA128-SHA"],
  [0x0087, "DHE-DSS-CAMELLIA256-SHA"],
  [0x0044, "DHE-DSS-CAMELLIA128-SHA"],
  [0x009a, "DHE-RSA-SEED-SHA"],
  [0xc005, "ECDH-ECDSA-AES256-SHA"],
  [0xc004, "ECDH-ECDSA-AES128-SHA"],
  [0xc00f, "ECDH-RSA-AES256-SHA"],
  [0xc00e, "ECDH-RSA-AES128-SHA"],
  [0x009d, "AES256-GCM-SHA384"],
  [0x009c, "AES128-GCM-SHA256"],
  [0xc09d, "AES256-CCM"],
  [0xc09c, "AES128-CCM"],
  [0xc0a1, "AES256-CCM8"],
  [0xc0a0, "AES128-CCM8"],
  [0xc051, "ARIA256-GCM-SHA384"],
  [0xc050, "ARIA128-GCM-SHA256"],
  [0x003d, "AES256-SHA256"],
  [0x003c, "AES128-SHA256"],
  [0x00c0, "CAMELLIA256-SHA256"],
  [0x00ba, "CAMELLIA128-SHA256"],
  [0x0035, "AES256-SHA"],
  [0x002f, "AES128-SHA"],
  [0x0084, "CAMELLIA256-SHA"],
  [0x0041, "CAMELLIA128-SHA"],
  [0x0096, "SEED-SHA"],
  [0x0007, "IDEA-CBC-SHA"],
  [0xc008, "ECDHE-ECDSA-DES-CBC3-SHA"],
  [0xc012, "ECDHE-RSA-DES-CBC3-SHA"],
  [0x0016, "EDH-RSA-DES-CBC3-SHA"],
  [0x0013, "EDH-DSS-DES-CBC3-SHA"],
  [0x000a, "DES-CBC3-SHA"],
  [0xc007, "ECDHE-ECDSA-RC4-SHA"],
  [0xc011, "ECDHE-RSA-RC4-SHA"],
  [0x0005, "RC4-SHA"],
  [0x0004, "RC4-MD5"],
  // Anonymous key exchange last: OpenSSL's ALL, which full mode offers, includes it too.
  [0xc019, "AECDH-AES256-SHA"],
  [0xc018, "AECDH-AES128-SHA"],
  [0x00a7, "ADH-AES256-GCM-SHA384"],
  [0x00a6, "ADH-AES128-GCM-SHA256"],
  [0x003a, "ADH-AES256-SHA"],
  [0x0034, "ADH-AES128-SHA"],
]);

/** TLS 1.3 suites (RFC 8446 B.4), with the names OpenSSL uses for them. */
export const TLS13_SUITES: ReadonlyMap<number, string> = new Map([
  [0x1302, "TLS_AES_256_GCM_SHA384"],
  [0x1303, "TLS_CHACHA20_POLY1305_SHA256"],
  [0x1301, "TLS_AES_128_GCM_SHA256"],
  [0x1304, "TLS_AES_128_CCM_SHA256"],
  [0x1305, "TLS_AES_128_CCM_8_SHA256"],
]);

/** Signalling suite for secure renegotiation (RFC 5746 3.3): what OpenSSL sends for TLS <= 1.2. */
const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
// Never TLS_FALLBACK_SCSV (0x5600): a server that supports a higher version would answer our
// single-version hello with inappropriate_fallback instead of telling us about this version.

/**
 * TLS 1.0-1.2 hellos put plain RSA key exchange first. A server that follows the client's order
 * (Postfix's and nginx's defaults) then answers without a ServerKeyExchange, so our question
 * costs it no signature: measured on the bench layout, 0.1-0.2 ms of server CPU per hello
 * instead of 0.7 (nginx), 1 ms instead of 1.8 (Postfix, dialog included). sslscan's numerically
 * ordered list has the same effect. A server without these suites just picks another. The cipher
 * reported for those versions is then the server's pick from this order (for TLS 1.2 usually
 * AES128-GCM-SHA256), not what a modern client would get (README "hello or full: the trade-off").
 */
const CHEAP_FOR_THE_SERVER = [0x002f, 0x0035, 0x000a]; // AES128-SHA, AES256-SHA, DES-CBC3-SHA
// TLS 1.2 only: the same key exchange with AEAD first (RFC 5288), as a TLS 1.2 server would pick anyway.
const CHEAP_FOR_THE_SERVER_TLS12 = [0x009c, 0x009d, ...CHEAP_FOR_THE_SERVER]; // AES128-GCM-SHA256, AES256-GCM-SHA384

function cheapFirst(cheap: readonly number[]): ReadonlyMap<number, string> {
  return new Map([...cheap.map((code) => [code, LEGACY_SUITES.get(code)!] as const), ...[...LEGACY_SUITES].filter(([code]) => !cheap.includes(code))]);
}
const LEGACY_VERSION_SUITES = cheapFirst(CHEAP_FOR_THE_SERVER);
const TLS12_SUITES = cheapFirst(CHEAP_FOR_THE_SERVER_TLS12);

/** The suites a hello for `version` offers, in order, code -> OpenSSL name. */
export function offeredSuites(version: TlsVersion): ReadonlyMap<number, string> {
  if (version === "TLSv1.3") return TLS13_SUITES;
  return version === "TLSv1.2" ? TLS12_SUITES : LEGACY_VERSION_SUITES;
}

const GROUP = { x25519: 0x001d, secp256r1: 0x0017, secp384r1: 0x0018, secp521r1: 0x0019, x448: 0x001e, ffdhe2048: 0x0100, ffdhe3072: 0x0101, ffdhe4096: 0x0102 } as const;
const SUPPORTED_GROUPS = [GROUP.x25519, GROUP.secp256r1, GROUP.secp384r1, GROUP.secp521r1, GROUP.x448, GROUP.ffdhe2048, GROUP.ffdhe3072, GROUP.ffdhe4096];

// RFC 8446 4.2.3 codes. SHA-1 and SHA-224 stay in: a TLS 1.2 server whose only certificate is
// signed that way must still be able to answer with its version.
const SIGNATURE_ALGORITHMS = [
  0x0403, 0x0503, 0x0603, // ecdsa_secp256r1_sha256, secp384r1_sha384, secp521r1_sha512
  0x0807, 0x0808, // ed25519, ed448
  0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha256/384/512
  0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256/384/512
  0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha256/384/512
  0x0402, 0x0502, 0x0602, // dsa_sha256/384/512 (TLS 1.2 only)
  0x0303, 0x0301, 0x0302, // ecdsa/rsa/dsa with SHA-224
  0x0203, 0x0201, 0x0202, // ecdsa/rsa/dsa with SHA-1
];

const EXT = {
  serverName: 0,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  padding: 21,
  extendedMasterSecret: 23,
  supportedVersions: 43,
  pskKeyExchangeModes: 45,
  keyShare: 51,
} as const;

export interface ClientHelloOptions {
  /** A DNS name for SNI; omitted for addresses (RFC 6066 3). */
  servername?: string;
  /** 32-byte X25519 public key for the TLS 1.3 key_share. Default: a fresh one from keyShareX25519(). */
  x25519PublicKey?: Buffer;
}

/** A complete TLS record holding a ClientHello that offers exactly `version`. */
export function buildClientHello(version: TlsVersion, options: ClientHelloOptions = {}): Buffer {
  const tls13 = version === "TLSv1.3";
  const extensions: Buffer[] = [];
  if (options.servername) {
    const name = Buffer.from(options.servername, "ascii");
    // server_name_list: one host_name (type 0).
    extensions.push(extension(EXT.serverName, vector2(Buffer.concat([Buffer.from([0]), vector2(name)]))));
  }
  extensions.push(extension(EXT.supportedGroups, vector2(u16s(SUPPORTED_GROUPS))));
  extensions.push(extension(EXT.ecPointFormats, vector1(Buffer.from([0])))); // uncompressed
  if (version === "TLSv1.2" || tls13) extensions.push(extension(EXT.signatureAlgorithms, vector2(u16s(SIGNATURE_ALGORITHMS))));
  if (tls13) {
    extensions.push(extension(EXT.supportedVersions, vector1(u16s([VERSION_CODE["TLSv1.3"]]))));
    const publicKey = options.x25519PublicKey ?? keyShareX25519();
    extensions.push(extension(EXT.keyShare, vector2(Buffer.concat([u16s([GROUP.x25519]), vector2(publicKey)]))));
    extensions.push(extension(EXT.pskKeyExchangeModes, vector1(Buffer.from([1])))); // psk_dhe_ke
  } else {
    extensions.push(extension(EXT.extendedMasterSecret, Buffer.alloc(0)));
  }

  const suites = [...offeredSuites(version).keys()];
  if (!tls13) suites.push(EMPTY_RENEGOTIATION_INFO_SCSV);
  const head = Buffer.concat([
    u16s([tls13 ? VERSION_CODE["TLSv1.2"] : VERSION_CODE[version]]), // legacy_version
    randomBytes(32),
    // TLS 1.3 middlebox compatibility mode (RFC 8446 D.4) sends a random session id, as OpenSSL does.
    vector1(tls13 ? randomBytes(32) : Buffer.alloc(0)),
    vector2(u16s(suites)),
    vector1(Buffer.from([0])), // compression: null only
  ]);
  // Some old F5 devices hang on a ClientHello of 256 to 511 bytes; RFC 7685 padding takes it to 512.
  const unpadded = 4 + head.length + 2 + extensions.reduce((n, e) => n + e.length, 0);
  if (unpadded >= 256 && unpadded < 512) extensions.push(extension(EXT.padding, Buffer.alloc(Math.max(0, 512 - unpadded - 4))));
  const body = Buffer.concat([head, vector2(Buffer.concat(extensions))]);
  const handshake = Buffer.concat([Buffer.from([1]), u24(body.length), body]); // client_hello
  // Record version 0x0301 for the first record, as OpenSSL and RFC 8446 5.1 do: some servers
  // drop a first record that claims a higher version.
  return Buffer.concat([Buffer.from([22, 0x03, 0x01]), u16s([handshake.length]), handshake]);
}

let cachedKey: { publicKey: Buffer; uses: number } | null = null;

/**
 * A valid X25519 public key for key_share. We never finish these handshakes, so the private key
 * is never used and one key can serve several hellos: a key pair costs ~0.1-0.4 ms of CPU here,
 * more than the rest of a hello. A fresh key every 64 hellos keeps them from being one constant.
 */
export function keyShareX25519(): Buffer {
  if (!cachedKey || cachedKey.uses >= 64) {
    const { publicKey } = generateKeyPairSync("x25519");
    // The SubjectPublicKeyInfo DER of an X25519 key ends with the 32 raw key bytes (RFC 8410).
    cachedKey = { publicKey: publicKey.export({ type: "spki", format: "der" }).subarray(-32), uses: 0 };
  }
  cachedKey.uses++;
  return cachedKey.publicKey;
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16s([type]), vector2(data)]);
}

function u16s(values: readonly number[]): Buffer {
  const out = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => out.writeUInt16BE(v, i * 2));
  return out;
}

function u24(value: number): Buffer {
  return Buffer.from([(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]);
}

function vector1(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([data.length]), data]);
}

function vector2(data: Buffer): Buffer {
  return Buffer.concat([u16s([data.length]), data]);
}
