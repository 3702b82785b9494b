import { describe, expect, it } from "vitest";
import { applySilentCloseRule, SILENT_CLOSE_REASON, type VersionFinding } from "./silent-close";
import type { TlsVersion } from "./types";

const accepted: VersionFinding = { outcome: "accepted", reason: null };
const closedSilently: VersionFinding = { outcome: "unknown", reason: "closed", silentClose: true };
const resetSilently: VersionFinding = { outcome: "unknown", reason: "reset", silentClose: true };
const closedAfterBytes: VersionFinding = { outcome: "unknown", reason: "closed" };
const timedOut: VersionFinding = { outcome: "unknown", reason: "timeout" };
const alert: VersionFinding = { outcome: "rejected", reason: "protocol_version" };
const otherAlert: VersionFinding = { outcome: "unknown", reason: "internal_error" };

type Row = [string, Partial<Record<TlsVersion, VersionFinding>>, TlsVersion[], Partial<Record<TlsVersion, [string, string | null]>>];

// [case, findings per version, versions whose handshake completed, expected outcome and reason]
const table: Row[] = [
  [
    "Dovecot ssl_min_protocol=TLSv1.2: 1.0/1.1 hang up, 1.2/1.3 complete -> rejected",
    { TLSv1: closedSilently, "TLSv1.1": resetSilently, "TLSv1.2": accepted, "TLSv1.3": accepted },
    ["TLSv1.2", "TLSv1.3"],
    { TLSv1: ["rejected", SILENT_CLOSE_REASON], "TLSv1.1": ["rejected", SILENT_CLOSE_REASON], "TLSv1.2": ["accepted", null] },
  ],
  [
    "drop after STARTTLS: nothing ever completes -> every close stays unknown",
    { TLSv1: closedSilently, "TLSv1.1": closedSilently, "TLSv1.2": resetSilently, "TLSv1.3": closedSilently },
    [],
    { TLSv1: ["unknown", "closed"], "TLSv1.2": ["unknown", "reset"], "TLSv1.3": ["unknown", "closed"] },
  ],
  [
    "a stall is never evidence, even next to a completed handshake",
    { TLSv1: timedOut, "TLSv1.2": accepted },
    ["TLSv1.2"],
    { TLSv1: ["unknown", "timeout"] },
  ],
  [
    "a close after the server said something (a partial record) stays unknown",
    { TLSv1: closedAfterBytes, "TLSv1.2": accepted },
    ["TLSv1.2"],
    { TLSv1: ["unknown", "closed"] },
  ],
  [
    "only the version's own handshake completed: no other version vouches for the endpoint",
    { "TLSv1.3": closedSilently },
    ["TLSv1.3"],
    { "TLSv1.3": ["unknown", "closed"] },
  ],
  [
    "an alert keeps its own reason; a non-rejecting alert stays unknown",
    { TLSv1: alert, "TLSv1.1": otherAlert, "TLSv1.2": accepted },
    ["TLSv1.2"],
    { TLSv1: ["rejected", "protocol_version"], "TLSv1.1": ["unknown", "internal_error"] },
  ],
  [
    "a completed handshake on any other version is enough (only TLS 1.0 speaks)",
    { TLSv1: accepted, "TLSv1.2": resetSilently, "TLSv1.3": closedSilently },
    ["TLSv1"],
    { "TLSv1.2": ["rejected", SILENT_CLOSE_REASON], "TLSv1.3": ["rejected", SILENT_CLOSE_REASON] },
  ],
];

describe("applySilentCloseRule", () => {
  it.each(table)("%s", (_name, findings, completed, expected) => {
    const settled = applySilentCloseRule(new Map(Object.entries(findings) as [TlsVersion, VersionFinding][]), new Set(completed));
    expect(settled.size).toBe(Object.keys(findings).length);
    for (const [version, [outcome, reason]] of Object.entries(expected) as [TlsVersion, [string, string | null]][]) {
      expect({ version, outcome: settled.get(version)?.outcome, reason: settled.get(version)?.reason }).toEqual({ version, outcome, reason });
    }
  });
});
