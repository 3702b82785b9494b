// The plans (pure): each parameter and master.cf override that allows what the goal rules out.

import { describeVersions, LEGACY_VERSIONS, type TlsVersion } from "../linux-common";
import type { Goal } from "../types";
import { formatPostfixProtocols, POSTFIX_PROTOCOL_PARAMETERS, sideOf, unbrokenUpTo, type PostfixProtocolParameter } from "./protocols";
import type { PostfixChange, PostfixMasterOverride, PostfixState } from "./state";

function mainChange(state: PostfixState, p: PostfixProtocolParameter, to: string, reason: string): PostfixChange {
  return { path: `${state.configDirectory}/main.cf`, value: p, scope: "main", parameter: p, from: state.parameters[p].explicit, to, reason };
}

function masterChange(state: PostfixState, o: PostfixMasterOverride, to: string, reason: string): PostfixChange {
  return {
    path: `${state.configDirectory}/master.cf`,
    value: `${o.service}/${o.type}/${o.parameter}`,
    scope: `master:${o.service}/${o.type}`,
    parameter: o.parameter,
    from: o.value,
    to,
    reason,
  };
}

/** TLS 1.0 and 1.1 off everywhere: ">=TLSv1.2" (or the exclusion list before Postfix 3.6) on each
 *  of the four parameters and each master.cf override that still allows them or lacks TLS 1.2.
 *  Values already compliant are left as the operator wrote them. */
export function planDisableLegacy(state: PostfixState): PostfixChange[] {
  const target = formatPostfixProtocols(["TLSv1.2", "TLSv1.3"], state.mailVersion);
  const needs = (enabled: TlsVersion[] | null) => enabled === null || enabled.some((v) => LEGACY_VERSIONS.includes(v)) || !enabled.includes("TLSv1.2");
  const why = (enabled: TlsVersion[] | null) => (enabled === null ? "value cannot be evaluated" : `allows ${describeVersions(enabled)}`);
  const changes: PostfixChange[] = [];
  for (const p of POSTFIX_PROTOCOL_PARAMETERS) {
    const cur = state.parameters[p];
    if (needs(cur.enabled)) changes.push(mainChange(state, p, target, `disable TLS 1.0/1.1: ${p} ${why(cur.enabled)}`));
  }
  for (const o of state.masterOverrides) {
    if (needs(o.enabled)) changes.push(masterChange(state, o, target, `disable TLS 1.0/1.1: the ${o.service}/${o.type} override ${why(o.enabled)}`));
  }
  return changes;
}

/** TLS 1.2 on everywhere, nothing else changed: TLS 1.2 is added to the versions each setting
 *  already allows. A value that cannot be evaluated is replaced by this Postfix's default. */
export function planEnableTls12(state: PostfixState): PostfixChange[] {
  const next = (p: PostfixProtocolParameter, enabled: TlsVersion[] | null, fallback: string): string | null => {
    if (enabled === null) return fallback || formatPostfixProtocols(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], state.mailVersion);
    if (enabled.includes("TLSv1.2")) return null;
    // A client offers only its lowest unbroken run (evaluatePostfixProtocols): TLS 1.2 added above
    // a gap would never be offered, so the gap is filled.
    return formatPostfixProtocols(sideOf(p) === "client" ? unbrokenUpTo(enabled, "TLSv1.2") : [...enabled, "TLSv1.2"], state.mailVersion);
  };
  const why = (p: PostfixProtocolParameter, enabled: TlsVersion[] | null) => {
    const filled = sideOf(p) === "client" && enabled?.length ? unbrokenUpTo(enabled, "TLSv1.2").filter((v) => v !== "TLSv1.2" && !enabled.includes(v)) : [];
    return `allows ${describeVersions(enabled)}${filled.length ? ` (${describeVersions(filled)} enabled too: a client never offers a version above a gap)` : ""}`;
  };
  const changes: PostfixChange[] = [];
  for (const p of POSTFIX_PROTOCOL_PARAMETERS) {
    const to = next(p, state.parameters[p].enabled, state.parameters[p].default);
    if (to !== null) changes.push(mainChange(state, p, to, `enable TLS 1.2: ${p} ${why(p, state.parameters[p].enabled)}`));
  }
  for (const o of state.masterOverrides) {
    const to = next(o.parameter, o.enabled, state.parameters[o.parameter].default);
    if (to !== null) changes.push(masterChange(state, o, to, `enable TLS 1.2: the ${o.service}/${o.type} override ${why(o.parameter, o.enabled)}`));
  }
  return changes;
}

export function planPostfix(state: PostfixState, goal: Goal): PostfixChange[] {
  return goal === "enable-tls12" ? planEnableTls12(state) : planDisableLegacy(state);
}
