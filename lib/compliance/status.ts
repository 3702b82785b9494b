// Host status: a pure function of the evidence (../shared/DESIGN.md "Host status").
// Every status comes with one line naming the evidence, written for an operator.

export const HOST_STATUSES = ["compliant", "noncompliant", "at_risk", "pending_reboot", "mismatch", "unreachable", "error", "unknown", "excepted"] as const;
export type HostStatusValue = (typeof HOST_STATUSES)[number];

/** Statuses that mean "this host has a TLS problem" (drives firstFailingAt). */
export const FAILING_STATUSES: ReadonlySet<HostStatusValue> = new Set(["noncompliant", "at_risk", "mismatch"]);

export type Outcome = "accepted" | "rejected" | "unknown";
export type WireVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

export interface WireEvidence {
  port: number;
  service: string;
  probedAt: Date;
  verdict: "unreachable" | "no-tls" | "error" | "at_risk" | "noncompliant" | "compliant";
  protocols: Record<WireVersion, Outcome>;
  error?: string | null;
}

/** What one playbook's check concluded, reduced to the two questions that decide compliance. */
export interface ConfigEvidence {
  playbook: string;
  takenAt: Date;
  /** true: config enables TLS 1.0 or 1.1; false: disables both; null: cannot tell. */
  legacyEnabled: boolean | null;
  /** true: TLS 1.2 enabled; false: disabled; null: cannot tell. */
  tls12Enabled: boolean | null;
  /** A change (ours or Windows Update's) waits for a reboot. */
  rebootPending: boolean;
  /** Operator's terms, e.g. "TLS 1.0 Server: Enabled=1, DisabledByDefault=0". */
  summary: string;
}

export interface ExceptionEvidence {
  endpointPort: number | null;
  version: string | null;
  expiresAt: Date;
  approved: boolean;
  justification: string;
}

export interface StatusEvidence {
  wire: WireEvidence[]; // latest result per endpoint
  config: ConfigEvidence[]; // latest snapshot per playbook
  exceptions: ExceptionEvidence[];
  now: Date;
}

export interface HostStatusResult {
  status: HostStatusValue;
  explanation: string;
}

const VERSION_LABEL: Record<WireVersion, string> = { TLSv1: "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3" };

export function formatUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const where = (w: WireEvidence) => `${w.port}/${w.service}`;

interface Finding {
  kind: "legacy" | "no-tls12" | "no-starttls";
  port: number | null;
  versions: WireVersion[];
  text: string;
}

function wireFindings(wire: WireEvidence[]): Finding[] {
  const findings: Finding[] = [];
  for (const w of wire) {
    if (w.verdict === "no-tls") {
      findings.push({ kind: "no-starttls", port: w.port, versions: [], text: `STARTTLS not offered on ${where(w)} at ${formatUtc(w.probedAt)} (peers requiring TLS answer 451 5.7.3)` });
      continue;
    }
    if (w.verdict === "unreachable" || w.verdict === "error") continue;
    const legacy = (["TLSv1", "TLSv1.1"] as const).filter((v) => w.protocols[v] === "accepted");
    const modern = w.protocols["TLSv1.2"] === "accepted" || w.protocols["TLSv1.3"] === "accepted";
    if (!modern && (w.protocols["TLSv1.2"] === "rejected" || w.protocols["TLSv1.3"] === "rejected")) {
      findings.push({ kind: "no-tls12", port: w.port, versions: ["TLSv1.2"], text: `TLS 1.2 not accepted on ${where(w)} at ${formatUtc(w.probedAt)}: mail flow with Microsoft 365 fails` });
    }
    if (legacy.length) {
      findings.push({ kind: "legacy", port: w.port, versions: legacy, text: `${legacy.map((v) => VERSION_LABEL[v]).join(" and ")} accepted on ${where(w)} at ${formatUtc(w.probedAt)}` });
    }
  }
  return findings;
}

function covered(f: Finding, exceptions: ExceptionEvidence[], now: Date): ExceptionEvidence | undefined {
  return exceptions.find(
    (e) =>
      e.approved &&
      e.expiresAt > now &&
      (e.endpointPort === null || e.endpointPort === f.port) &&
      (e.version === null || f.versions.length === 0 || f.versions.every((v) => v === e.version)),
  );
}

export function evaluateHostStatus(ev: StatusEvidence): HostStatusResult {
  const { wire, config, now } = ev;
  if (wire.length === 0 && config.length === 0) return { status: "unknown", explanation: "Never scanned" };

  const findings = wireFindings(wire);
  const reachable = wire.filter((w) => w.verdict !== "unreachable" && w.verdict !== "error");
  const unreachable = wire.filter((w) => w.verdict === "unreachable");
  const errored = wire.filter((w) => w.verdict === "error");

  const pending = config.find((c) => c.rebootPending);
  const configLegacy = config.find((c) => c.legacyEnabled === true);
  const configNo12 = config.find((c) => c.tls12Enabled === false);
  const configSaysFixed = config.length > 0 && config.every((c) => c.legacyEnabled === false && c.tls12Enabled !== false);

  // A fix waiting for its reboot explains a wire that still shows the old state.
  if (pending && configSaysFixed && findings.some((f) => f.kind !== "no-starttls")) {
    return { status: "pending_reboot", explanation: `Config fixed (${pending.summary}) but not effective until reboot; wire still shows: ${findings[0].text}` };
  }

  const uncovered = findings.filter((f) => !covered(f, ev.exceptions, now));
  if (findings.length > 0 && uncovered.length === 0) {
    const e = covered(findings[0], ev.exceptions, now)!;
    return { status: "excepted", explanation: `${findings[0].text}; excepted until ${formatUtc(e.expiresAt)}: ${e.justification}` };
  }

  if (configSaysFixed && uncovered.some((f) => f.kind === "legacy" || f.kind === "no-tls12")) {
    const f = uncovered.find((x) => x.kind !== "no-starttls")!;
    return { status: "mismatch", explanation: `Config says fixed (${config[0].summary}) but ${f.text}` };
  }

  const at = uncovered.find((f) => f.kind === "no-tls12") ?? uncovered.find((f) => f.kind === "no-starttls");
  if (at) return { status: "at_risk", explanation: at.text };
  if (configNo12 && reachable.length === 0) return { status: "at_risk", explanation: `TLS 1.2 disabled in config (${configNo12.summary}) at ${formatUtc(configNo12.takenAt)}` };

  const legacy = uncovered.find((f) => f.kind === "legacy");
  if (legacy) return { status: "noncompliant", explanation: legacy.text };

  // Wire says legacy is refused everywhere, yet config enables it: one of them is wrong.
  if (configLegacy && reachable.length > 0) {
    return { status: "mismatch", explanation: `Config enables legacy TLS (${configLegacy.summary}) but every reachable endpoint rejects TLS 1.0 and 1.1` };
  }
  if (configLegacy) return { status: "noncompliant", explanation: `Legacy TLS enabled in config (${configLegacy.summary}) at ${formatUtc(configLegacy.takenAt)}` };
  if (pending) return { status: "pending_reboot", explanation: `A change waits for a reboot (${pending.summary})` };

  if (unreachable.length > 0) {
    const u = unreachable[0];
    return { status: "unreachable", explanation: `${where(u)} unreachable at ${formatUtc(u.probedAt)}${u.error ? `: ${u.error}` : ""}${reachable.length ? `; ${reachable.length} other endpoint(s) fine` : ""}` };
  }
  if (errored.length > 0) {
    const e = errored[0];
    return { status: "error", explanation: `No conclusive handshake on ${where(e)} at ${formatUtc(e.probedAt)}${e.error ? `: ${e.error}` : ""}` };
  }
  if (reachable.length === 0) {
    const c = config[0];
    return { status: "compliant", explanation: `Config: ${c.summary} at ${formatUtc(c.takenAt)} (no wire evidence yet)` };
  }
  const latest = reachable.reduce((a, b) => (a.probedAt > b.probedAt ? a : b));
  return {
    status: "compliant",
    explanation: `TLS 1.0/1.1 rejected and TLS 1.2+ accepted on ${reachable.map(where).join(", ")} at ${formatUtc(latest.probedAt)}`,
  };
}

/** Timestamps that follow a status change: when the host started failing and when it last changed. */
export function nextStatusTimes(
  previous: { status: HostStatusValue; firstFailingAt: Date | null; lastChangedAt: Date } | null,
  next: HostStatusValue,
  now: Date,
): { firstFailingAt: Date | null; lastChangedAt: Date; changed: boolean } {
  const changed = !previous || previous.status !== next;
  const failing = FAILING_STATUSES.has(next);
  const wasFailing = previous ? FAILING_STATUSES.has(previous.status) : false;
  return {
    changed,
    lastChangedAt: changed ? now : previous!.lastChangedAt,
    firstFailingAt: failing ? (wasFailing && previous!.firstFailingAt ? previous!.firstFailingAt : now) : null,
  };
}

/** Drift: the host was compliant and no longer is. */
export function isDrift(previous: HostStatusValue | null | undefined, next: HostStatusValue): boolean {
  return previous === "compliant" && FAILING_STATUSES.has(next);
}
