// The check: every postconf query in one remote shell (runBatch), master.cf's bytes when apply may
// edit it.

import type { RemoteSession } from "../../transport/types";
import { checkedOutput, OPENSSL_POLICY_STEP, readRemoteFile, runBatch, snapshotOf } from "../linux-common";
import { PlaybookError, type RawOutput } from "../types";
import { parsePostconf, splitMasterName } from "./postconf";
import { isProtocolParameter, POSTFIX_PROTOCOL_PARAMETERS } from "./protocols";
import { CIPHER_GRADE_OF, interpretPostfix, type PostfixState } from "./state";

const NAMES = [...POSTFIX_PROTOCOL_PARAMETERS];
/** What decides the library's security level and the client's STARTTLS, besides the four. */
const TLS_QUERY = [
  "smtp_tls_security_level",
  "smtp_use_tls",
  "smtp_enforce_tls",
  ...Object.values(CIPHER_GRADE_OF),
  "tls_high_cipherlist",
  "tls_medium_cipherlist",
  "tls_low_cipherlist",
  "tls_null_cipherlist",
  "smtp_tls_policy_maps",
  "postscreen_tls_security_level",
  "tlsproxy_tls_protocols",
  "tlsproxy_tls_mandatory_protocols",
  "tlsproxy_tls_ciphers",
];
// A constant script: every map of smtp_tls_policy_maps listed with `postmap -s` (the map names
// come from the host's own postconf, never from us).
const POLICY_DUMP_STEP = [
  "sh",
  "-c",
  `set -f
for m in $(postconf -xh smtp_tls_policy_maps | tr ',' ' '); do
  printf '@@map %s\\n' "$m"
  postmap -s "$m" 2>/dev/null || printf '@@failed %s\\n' "$m"
done
exit 0`,
];
/** What a check asks postconf, in one remote shell (runBatch). The two -x queries expand $name
 *  references; Postfix before 2.10 has no -x, which matters only when a value holds a "$". */
export const CHECK_STEPS: string[][] = [
  ["postconf", "mail_version", "config_directory", "smtpd_tls_security_level"],
  ["postconf", ...NAMES],
  ["postconf", "-x", ...NAMES],
  ["postconf", "-d", ...NAMES],
  ["postconf", "-n"],
  ["postconf", "-P"],
  ["postconf", "-P", "-x"],
  // Not gates: an older Postfix or a host without the openssl CLI still gets its four parameters.
  ["postconf", "-x", ...TLS_QUERY],
  ["postconf", "-M"],
  [...OPENSSL_POLICY_STEP],
  [...POLICY_DUMP_STEP],
];

/** The state from the outputs of CHECK_STEPS; reads master.cf's bytes (one more command) only
 *  when it has protocol overrides, the only case apply edits it. */
export async function stateFromCheck(s: RemoteSession, outputs: RawOutput[]): Promise<PostfixState> {
  if (outputs.length !== CHECK_STEPS.length) throw new PlaybookError(s.hostLabel, `postconf on ${s.hostLabel} answered ${outputs.length} of ${CHECK_STEPS.length} queries`);
  const [basics, values, expanded, defaults, explicit, master, masterExpanded, tls, services, openssl, policy] = outputs;
  const optional = (o: RawOutput | undefined) => (o && o.exitCode === 0 ? o.stdout : null);
  const must = (o: RawOutput | undefined) => checkedOutput(s.hostLabel, o!);
  const expansion = (plain: RawOutput, x: RawOutput | undefined) => (plain.stdout.includes("$") ? must(x) : null);
  const raw = [...outputs];
  must(basics);
  must(values);
  must(defaults);
  must(explicit);
  must(master);
  const configDirectory = parsePostconf(basics!.stdout).values.get("config_directory");
  const hasOverrides = [...parsePostconf(master!.stdout).values.keys()].some((k) => isProtocolParameter(splitMasterName(k)?.parameter ?? ""));
  const masterCfPath = `${configDirectory}/master.cf`;
  const masterCf = hasOverrides && configDirectory?.startsWith("/") ? snapshotOf(masterCfPath, await readRemoteFile(s, masterCfPath, raw)) : null;
  const state = interpretPostfix({
    basics: basics!.stdout,
    values: values!.stdout,
    expanded: expansion(values!, expanded)?.stdout ?? null,
    defaults: defaults!.stdout,
    explicit: explicit!.stdout,
    master: master!.stdout,
    masterExpanded: expansion(master!, masterExpanded)?.stdout ?? null,
    masterCf,
    tls: optional(tls),
    services: optional(services),
    openssl: openssl ?? null,
    policy: optional(policy) ?? undefined,
    raw,
    collectedAt: new Date(),
  });
  if (typeof state === "string") throw new PlaybookError(s.hostLabel, `${state} on ${s.hostLabel}`);
  return state;
}

/** Reads the four parameters (value, expanded, default, explicit) and the master.cf overrides,
 *  in one remote shell. Read-only: postconf without -e / -X changes nothing. */
export async function checkPostfix(s: RemoteSession): Promise<PostfixState> {
  return stateFromCheck(s, await runBatch(s, CHECK_STEPS));
}
