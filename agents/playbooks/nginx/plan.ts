// Plans (pure): the ssl_protocols changes that reach a goal.

import { describeVersions, LEGACY_VERSIONS, type TlsVersion } from "../linux-common";
import type { Goal } from "../types";
import { PROTOCOL_NAMES } from "./dump";
import type { NginxChange, NginxState } from "./state";

export const COMPLIANT_PROTOCOLS = "TLSv1.2 TLSv1.3";

function planFor(state: NginxState, target: (enabled: TlsVersion[] | null, args: string[] | null) => string | null, why: string): NginxChange[] {
  const changes: NginxChange[] = [];
  for (const d of state.directives) {
    const to = target(d.enabled, d.args);
    if (to === null) continue;
    changes.push({
      path: d.file,
      value: "ssl_protocols",
      action: "replace",
      line: d.line,
      context: d.context,
      from: d.args.join(" "),
      to,
      reason: `${why}: ${d.level === "block" ? `${d.context} block` : "server"} at ${d.file}:${d.line} allows ${describeVersions(d.enabled)}`,
    });
  }
  // A block whose TLS servers rely on the built-in default gets an explicit directive.
  for (const b of state.blocks) {
    if (b.protocols) continue;
    const relying = state.servers.filter((s) => s.context === b.context && s.tls && s.protocols.source === "default");
    if (relying.length === 0) continue;
    const to = target(state.defaultProtocols, null);
    if (to === null) continue;
    changes.push({
      path: b.file,
      value: "ssl_protocols",
      action: "insert",
      line: b.line,
      context: b.context,
      from: null,
      to,
      reason: `${why}: ${relying.length} TLS server block${relying.length === 1 ? "" : "s"} use nginx ${state.version ?? "?"}'s default (${describeVersions(state.defaultProtocols)}); set it in the ${b.context} block at ${b.file}:${b.line}`,
    });
  }
  return changes;
}

/** ssl_protocols TLSv1.2 TLSv1.3 wherever TLS 1.0/1.1 is allowed or TLS 1.2 missing. */
export function planDisableLegacy(state: NginxState): NginxChange[] {
  return planFor(state, (enabled) => (enabled === null || enabled.some((v) => LEGACY_VERSIONS.includes(v)) || !enabled.includes("TLSv1.2") ? COMPLIANT_PROTOCOLS : null), "disable TLS 1.0/1.1");
}

/** TLSv1.2 added where it is missing; the other versions stay as configured. */
export function planEnableTls12(state: NginxState): NginxChange[] {
  return planFor(
    state,
    (enabled, args) => {
      if (enabled === null) return COMPLIANT_PROTOCOLS;
      if (enabled.includes("TLSv1.2")) return null;
      const keep = (args ?? enabled).filter((a) => a !== "TLSv1.2");
      const order = (a: string) => (PROTOCOL_NAMES as readonly string[]).indexOf(a);
      return [...keep, "TLSv1.2"].sort((a, b) => order(a) - order(b)).join(" ");
    },
    "enable TLS 1.2",
  );
}

export function planNginx(state: NginxState, goal: Goal): NginxChange[] {
  return goal === "enable-tls12" ? planEnableTls12(state) : planDisableLegacy(state);
}
