// TEST DOUBLE: Node TLS server options that accept exactly the SCHANNEL versions enabled at boot.

import { constants } from "node:crypto";
import type tls from "node:tls";
import type { SchannelVersion } from "./machine";

const NODE_NAME: Record<SchannelVersion, tls.SecureVersion> = {
  "TLS 1.0": "TLSv1",
  "TLS 1.1": "TLSv1.1",
  "TLS 1.2": "TLSv1.2",
  "TLS 1.3": "TLSv1.3",
};
const NO_FLAG: Record<SchannelVersion, number> = {
  "TLS 1.0": constants.SSL_OP_NO_TLSv1,
  "TLS 1.1": constants.SSL_OP_NO_TLSv1_1,
  "TLS 1.2": constants.SSL_OP_NO_TLSv1_2,
  "TLS 1.3": constants.SSL_OP_NO_TLSv1_3,
};
const ORDER: SchannelVersion[] = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"];

/** null when no version is enabled (the listener then cannot do TLS at all). */
export function tlsOptionsFor(
  versions: readonly SchannelVersion[],
): Pick<tls.SecureContextOptions, "minVersion" | "maxVersion" | "secureOptions" | "ciphers"> | null {
  const enabled = ORDER.filter((v) => versions.includes(v));
  if (enabled.length === 0) return null;
  const lo = ORDER.indexOf(enabled[0]!);
  const hi = ORDER.indexOf(enabled[enabled.length - 1]!);
  // min/max give a range; a hole inside it (e.g. 1.0 and 1.2 but not 1.1) needs OpenSSL's
  // SSL_OP_NO_* flags.
  let secureOptions = 0;
  for (let i = lo; i <= hi; i++) if (!enabled.includes(ORDER[i]!)) secureOptions |= NO_FLAG[ORDER[i]!];
  const legacy = enabled.includes("TLS 1.0") || enabled.includes("TLS 1.1");
  return {
    minVersion: NODE_NAME[ORDER[lo]!],
    maxVersion: NODE_NAME[ORDER[hi]!],
    secureOptions,
    // OpenSSL 3 negotiates TLS 1.0/1.1 only at security level 0.
    ciphers: legacy ? "ALL:@SECLEVEL=0" : undefined,
  };
}
