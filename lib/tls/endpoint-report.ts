// The report of one probed endpoint, from what its connections found (version-schedule.ts) and
// how they ended: the verdict, the STARTTLS state, a reason per version, and the error a person
// reads when nothing could be tested.

import { performance } from "node:perf_hooks";
import { applySilentCloseRule } from "./silent-close";
import type { StartTlsDialog } from "./services";
import { TLS_VERSIONS, type Outcome, type ProbeReport, type Service, type StartTlsState, type TlsVersion } from "./types";
import { decideVerdict } from "./verdict";
import type { StopReason, VersionFindings } from "./version-schedule";

/** Node's OpenSSL 3 build has no SSLv3 at all: it can only be "not tested", never "rejected". */
export const NOT_TESTABLE = ["SSLv3"] as const;

export interface ReportBase {
  target: string;
  service: Service;
  startedAt: number;
}

/** How the endpoint's connections ended, beyond what they found. */
export interface EndpointEnd {
  /** Why the connections stopped before running out of work; null when they ran out. */
  stopReason: StopReason | null;
  /** Some connection got through (TCP, and the greeting where there is one). */
  reachable: boolean;
  /** The server answered our STARTTLS with go-ahead at least once. */
  startTlsAccepted: boolean;
  dialog: StartTlsDialog | null;
}

export function endpointReport(base: ReportBase, address: string, findings: VersionFindings, end: EndpointEnd): ProbeReport {
  const { outcomes, handshakeCompleted, cipher, certificate, conclusion } = findings;
  const { stopReason, reachable, startTlsAccepted, dialog } = end;
  const leftoverReason = conclusion?.reason ?? (stopReason === "concluded" ? "not tested" : stopReason ?? "not tested");
  const protocols = {} as Record<TlsVersion, Outcome>;
  const reasons = {} as Record<TlsVersion, string | null>;
  const ciphers: Partial<Record<TlsVersion, string>> = {};
  const settled = applySilentCloseRule(outcomes, handshakeCompleted);
  for (const version of TLS_VERSIONS) {
    const found = settled.get(version);
    protocols[version] = found?.outcome ?? "unknown";
    reasons[version] = found ? found.reason : leftoverReason;
    const negotiated = cipher[version];
    if (negotiated && protocols[version] === "accepted") ciphers[version] = negotiated;
  }

  // A deadline before the greeting is "no greeting within the timeout"; only a caller's cancel is not.
  // A peer that sent garbage did answer: that is an error to look at, not an unreachable host.
  const unreachable =
    conclusion?.kind === "unreachable" || (!reachable && conclusion?.kind !== "garbage" && stopReason !== "cancelled");
  let starttls: StartTlsState = "not-applicable";
  if (dialog !== null) {
    // "not-applicable" also stands for "never got far enough to ask": claiming "not-offered"
    // for an endpoint we could not reach would read as the 451 5.7.3 situation, which it is not.
    if (conclusion?.kind === "not-offered") starttls = "not-offered";
    else if (startTlsAccepted) starttls = "offered";
  }
  const verdict = decideVerdict({ reachable: !unreachable, starttls, protocols });

  let error: string | null = conclusion?.message ?? null;
  if (!error && verdict === "error") error = `no TLS version could be tested: ${describeReasons(reasons, stopReason)}`;
  if (!error && unreachable) error = `no greeting from the service: ${describeReasons(reasons, stopReason)}`;
  return {
    target: base.target,
    service: base.service,
    starttls,
    protocols,
    reasons,
    notTested: [...NOT_TESTABLE],
    verdict,
    cipher: ciphers,
    certificate,
    error,
    durationMs: elapsed(base.startedAt),
    address,
  };
}

function describeReasons(reasons: Record<TlsVersion, string | null>, stopReason: StopReason | null): string {
  const distinct = [...new Set(Object.values(reasons).filter((r): r is string => r !== null))];
  const suffix = stopReason === "deadline" ? " (deadline reached)" : stopReason === "cancelled" ? " (cancelled)" : "";
  return `${distinct.join(", ") || "no answer"}${suffix}`;
}

export function failedReport(base: ReportBase, verdict: "error" | "unreachable", error: string, reason: string, address: string | null = null): ProbeReport {
  const protocols = {} as Record<TlsVersion, Outcome>;
  const reasons = {} as Record<TlsVersion, string | null>;
  for (const version of TLS_VERSIONS) {
    protocols[version] = "unknown";
    reasons[version] = reason;
  }
  return {
    target: base.target,
    service: base.service,
    starttls: "not-applicable",
    protocols,
    reasons,
    notTested: [...NOT_TESTABLE],
    verdict,
    cipher: {},
    certificate: null,
    error,
    durationMs: elapsed(base.startedAt),
    address,
  };
}

export function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
