// Is the goal met on the wire? Pure: a host is verified only by what every one of its endpoints
// negotiated just now, never by its configuration. "unknown" is not "rejected" (docs/architecture.md "The probe's verdict"): an
// endpoint that could not be told is not verified, and says why.
import { TLS_VERSION_LABEL, type Outcome, type TlsVersion } from "../tls/types";
import { GOAL_LABEL, type RolloutGoal } from "./settings";

export interface EndpointWire {
  /** "25/smtp" */
  label: string;
  verdict: string;
  protocols: Record<TlsVersion, Outcome>;
}

export type WireCheck = { ok: true; summary: string } | { ok: false; reason: string };

/** Checks every endpoint against every goal; the first problem names the endpoint and the version. */
export function wireMeetsGoals(goals: readonly RolloutGoal[], endpoints: readonly EndpointWire[]): WireCheck {
  if (endpoints.length === 0) return { ok: false, reason: "the host has no endpoints to verify on the wire: add its ports on the host page" };
  for (const e of endpoints) {
    if (e.verdict === "unreachable") return { ok: false, reason: `${e.label} unreachable during verification` };
    if (e.verdict === "no-tls") return { ok: false, reason: `${e.label} does not offer STARTTLS` };
    for (const goal of goals) {
      const expected: Array<[TlsVersion, Outcome]> = goal === "enable-tls12" ? [["TLSv1.2", "accepted"]] : [["TLSv1", "rejected"], ["TLSv1.1", "rejected"]];
      for (const [version, want] of expected) {
        const seen = e.protocols[version];
        if (seen === want) continue;
        if (seen === "unknown") return { ok: false, reason: `${TLS_VERSION_LABEL[version]} on ${e.label} could not be determined (${GOAL_LABEL[goal]} not proven)` };
        return { ok: false, reason: `${TLS_VERSION_LABEL[version]} still ${seen} on ${e.label} (${GOAL_LABEL[goal]} not met)` };
      }
    }
  }
  return { ok: true, summary: `${goals.map((g) => GOAL_LABEL[g]).join(" + ")} verified on the wire on ${endpoints.map((e) => e.label).join(", ")}` };
}

/** The accepted versions per endpoint, to compare a rollback's wire with the wire before the rollout. */
export function acceptedVersions(endpoints: readonly EndpointWire[]): Record<string, TlsVersion[]> {
  return Object.fromEntries(endpoints.map((e) => [e.label, (Object.keys(e.protocols) as TlsVersion[]).filter((v) => e.protocols[v] === "accepted").sort()]));
}

/**
 * A rollback is proven when every endpoint accepts again what it accepted before the rollout
 * (the legacy versions included: that is what "restored" means), judged on versions both reads
 * could tell.
 */
export function wireMatchesBefore(before: Record<string, TlsVersion[]>, now: readonly EndpointWire[]): WireCheck {
  for (const e of now) {
    const was = before[e.label];
    if (!was) continue;
    for (const v of Object.keys(e.protocols) as TlsVersion[]) {
      const seen = e.protocols[v];
      if (seen === "unknown") continue;
      if ((seen === "accepted") !== was.includes(v)) return { ok: false, reason: `${TLS_VERSION_LABEL[v]} ${seen} on ${e.label}, but ${was.includes(v) ? "accepted" : "not accepted"} before the rollout` };
    }
  }
  return { ok: true, summary: `the wire matches the state before the rollout on ${now.map((e) => e.label).join(", ")}` };
}
