// Postfix: which TLS versions smtpd (server) and smtp (client) allow, and changing that with
// postconf. docs/domain.md "Linux mail and web servers"; postconf(5) "smtpd_tls_protocols" (Postfix 3.7).
//
// Four parameters decide it: smtpd_tls_protocols (server, opportunistic TLS),
// smtpd_tls_mandatory_protocols (server, when TLS is required: smtpd_tls_security_level=encrypt),
// smtp_tls_protocols and smtp_tls_mandatory_protocols (the client, delivering outbound). Any
// master.cf service may override them with "-o name=value" (`postconf -P` lists those as
// service/type/name = value): the classic case is a submission service on 587 with its own,
// older, protocol list while main.cf is fine. The plan fixes those overrides too.
//
// Everything goes through postconf, never by editing main.cf/master.cf text: `postconf -e` and
// `postconf -P -e` rewrite one parameter and keep the rest of the file (comments included).
//
// Where it lives: protocols.ts (the four parameters, the protocol list syntax, the client's
// lowest-run rule), postconf.ts (postconf, `postconf -M` and policy-map output), state.ts (the
// verdicts), check.ts (the queries, in one remote shell), plan.ts, apply.ts (apply and rollback).
// The public surface is this file.

import { linuxServicePlaybook } from "../linux-common";
import { applyPostfix, rollbackPostfix } from "./apply";
import { checkPostfix } from "./check";
import { planPostfix } from "./plan";
import type { PostfixState } from "./state";

export { applyPostfix, rollbackPostfix } from "./apply";
export { checkPostfix } from "./check";
export { parseMasterServices, parsePolicyDump, parsePostconf, splitMasterName, type ParsedPostconf, type PostfixPolicyEntry } from "./postconf";
export { planDisableLegacy, planEnableTls12, planPostfix } from "./plan";
export { evaluatePostfixProtocols, formatPostfixProtocols, POSTFIX_PROTOCOL_PARAMETERS, type PostfixProtocolEvaluation, type PostfixProtocolParameter } from "./protocols";
export { interpretPostfix, type PostfixChange, type PostfixMasterOverride, type PostfixParameterState, type PostfixState } from "./state";

export const postfixPlaybook = linuxServicePlaybook<PostfixState>("postfix", { check: checkPostfix, plan: planPostfix, apply: applyPostfix, rollback: rollbackPostfix });
