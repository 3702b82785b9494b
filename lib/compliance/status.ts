// Host status: a pure function of the evidence (docs/domain.md "Two directions": the facts it
// relies on). Every status comes with one line naming the evidence, written for an operator.
//
// Mail with Microsoft 365 breaks in two directions, and the evidence for each is different:
// - inbound (Microsoft 365 -> this host: the host is the TLS server): the wire probes see it, and
//   what the wire shows decides; config evidence for the server side is only advisory then;
// - outbound (this host -> Microsoft 365: the host is the TLS client, SCHANNEL `TLS x\Client`,
//   the .NET values, Postfix `smtp_tls_*`): probing the host's listeners says nothing about it,
//   so config evidence decides, until wire evidence for that direction (an outbound check) exists.
// Evidence of one direction never overrides the other.

import { TLS_VERSION_LABEL, type Outcome, type TlsVersion } from "../tls/types";
import { formatUtc } from "../time";

export const HOST_STATUSES = ["compliant", "noncompliant", "at_risk", "pending_reboot", "mismatch", "unreachable", "error", "unknown", "excepted"] as const;
export type HostStatusValue = (typeof HOST_STATUSES)[number];

/** Statuses that mean "this host has a TLS problem" (drives firstFailingAt). */
export const FAILING_STATUSES: ReadonlySet<HostStatusValue> = new Set(["noncompliant", "at_risk", "mismatch"]);

/** inbound: the host as TLS server (its listeners); outbound: the host as TLS client (its mail to others). */
export const DIRECTIONS = ["inbound", "outbound"] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const DIRECTION_LABEL: Record<Direction, string> = { inbound: "Inbound from Microsoft 365", outbound: "Outbound to Microsoft 365" };

export interface WireEvidence {
  port: number;
  service: string;
  probedAt: Date;
  verdict: "unreachable" | "no-tls" | "error" | "at_risk" | "noncompliant" | "compliant";
  protocols: Record<TlsVersion, Outcome>;
  error?: string | null;
  /** Absent: inbound (a probe of the host's listener). Outbound: what the host itself negotiated
   *  as a client (an outbound check). */
  direction?: Direction;
}

/** What a playbook's check concluded about one direction, reduced to the questions that decide compliance. */
export interface ConfigSide {
  direction: Direction;
  /** true: config enables TLS 1.0 or 1.1; false: disables both; null: cannot tell. */
  legacyEnabled: boolean | null;
  /** true: TLS 1.2 enabled; false: disabled; null: cannot tell. */
  tls12Enabled: boolean | null;
  /** false: this side uses no TLS at all (smtpd_tls_security_level / smtp_tls_security_level = none). */
  tlsOffered?: boolean;
  /** Operator's terms, naming the values: "SCHANNEL TLS 1.2 Client disabled (Enabled=0)". */
  summary: string;
}

/** One playbook's latest snapshot. */
export interface ConfigEvidence {
  playbook: string;
  takenAt: Date;
  /** One entry per direction the playbook covers (nginx and Dovecot: inbound only). */
  sides: ConfigSide[];
  /** A change (ours or Windows Update's) waits for a reboot. */
  rebootPending: boolean;
  /** The whole snapshot in one line, for "a change waits for a reboot (...)". */
  summary: string;
  /** What only an update fixes ("Exchange 2016 CU7 (15.1.1261): TLS 1.2 needs CU8 ..."): at_risk
   *  in both directions, whatever the wire shows (the software, not a protocol setting). */
  prerequisites?: string[];
}

export interface ExceptionEvidence {
  endpointPort: number | null;
  /** "TLSv1" / "TLSv1.1" (or "TLS 1.0" / "TLS 1.1"); null: both legacy versions. */
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

const WIRE_VERSIONS_NEWEST_FIRST: readonly TlsVersion[] = ["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"];

const where = (w: WireEvidence) => `${w.port}/${w.service}`;
const directionOf = (w: WireEvidence): Direction => w.direction ?? "inbound";
const isConclusive = (w: WireEvidence) => w.verdict !== "unreachable" && w.verdict !== "error";

interface Finding {
  direction: Direction;
  source: "wire" | "config";
  kind: "legacy" | "no-tls12" | "no-starttls" | "prerequisite";
  /** The endpoint (wire findings), null for config. */
  port: number | null;
  /** The legacy versions seen (wire); empty when not known (config). */
  versions: TlsVersion[];
  text: string;
}

function wireFindings(wire: WireEvidence[]): Finding[] {
  const findings: Finding[] = [];
  for (const w of wire) {
    const direction = directionOf(w);
    const on = `${direction === "outbound" ? "outbound via " : "on "}${where(w)} at ${formatUtc(w.probedAt)}`;
    const base = { direction, source: "wire" as const, port: direction === "inbound" ? w.port : null };
    if (w.verdict === "no-tls") {
      findings.push({ ...base, kind: "no-starttls", versions: [], text: `STARTTLS not offered ${on} (peers requiring TLS answer 451 5.7.3)` });
      continue;
    }
    if (!isConclusive(w)) continue;
    const legacy = (["TLSv1", "TLSv1.1"] as const).filter((v) => w.protocols[v] === "accepted");
    const modern = w.protocols["TLSv1.2"] === "accepted" || w.protocols["TLSv1.3"] === "accepted";
    if (!modern && (w.protocols["TLSv1.2"] === "rejected" || w.protocols["TLSv1.3"] === "rejected")) {
      findings.push({ ...base, kind: "no-tls12", versions: ["TLSv1.2"], text: `TLS 1.2 not accepted ${on}: mail flow with Microsoft 365 fails` });
    }
    if (legacy.length) findings.push({ ...base, kind: "legacy", versions: legacy, text: `${legacy.map((v) => TLS_VERSION_LABEL[v]).join(" and ")} accepted ${on}` });
  }
  return findings;
}

function configFindings(config: ConfigEvidence[], direction: Direction): Finding[] {
  const findings: Finding[] = [];
  for (const c of config) {
    for (const side of c.sides) {
      if (side.direction !== direction) continue;
      const text = `${DIRECTION_LABEL[direction]}: ${side.summary} (${c.playbook} config at ${formatUtc(c.takenAt)})`;
      const base = { direction, source: "config" as const, port: null, versions: [] as TlsVersion[] };
      if (side.tlsOffered === false) findings.push({ ...base, kind: "no-starttls", text: `${text}; a peer that requires TLS answers 451 5.7.3` });
      else if (side.tls12Enabled === false) findings.push({ ...base, kind: "no-tls12", text });
      if (side.tlsOffered !== false && side.legacyEnabled === true) findings.push({ ...base, kind: "legacy", text });
    }
  }
  return findings;
}

/** One finding per direction, same text: Exchange is both the server and the client. */
function prerequisiteFindings(config: ConfigEvidence[]): Finding[] {
  return config.flatMap((c) =>
    (c.prerequisites ?? []).flatMap((p) =>
      DIRECTIONS.map((direction) => ({ direction, source: "config" as const, kind: "prerequisite" as const, port: null, versions: [], text: `Both directions: ${p} (${c.playbook} config at ${formatUtc(c.takenAt)})` })),
    ),
  );
}

const normalizeVersion = (v: string): string => ({ "TLS 1.0": "TLSv1", "TLSv1.0": "TLSv1", "TLS 1.1": "TLSv1.1" })[v.trim()] ?? v.trim();

/**
 * The exceptions that cover a finding, or null. An exception names legacy acceptance only (a
 * waiver for TLS 1.0/1.1 on an endpoint, or on every endpoint): it never hides a missing TLS 1.2
 * or a missing STARTTLS, nor the outbound side (no endpoint of this host is involved there), and
 * one scoped to a version hides only that version: "TLS 1.0 and TLS 1.1 accepted" needs both.
 */
function covering(f: Finding, exceptions: ExceptionEvidence[], now: Date): ExceptionEvidence[] | null {
  if (f.kind !== "legacy" || f.direction !== "inbound") return null;
  const live = exceptions.filter((e) => e.approved && e.expiresAt > now && (e.endpointPort === null || (f.port !== null && e.endpointPort === f.port)));
  const whole = live.find((e) => e.version === null);
  if (whole) return [whole];
  if (f.versions.length === 0) return null;
  const used: ExceptionEvidence[] = [];
  for (const v of f.versions) {
    const e = live.find((x) => x.version !== null && normalizeVersion(x.version) === v);
    if (!e) return null;
    if (!used.includes(e)) used.push(e);
  }
  return used;
}

/** What decided one direction, for the status and for the host page. */
export interface DirectionVerdict {
  direction: Direction;
  /** wire: a conclusive probe of this direction exists and decides; config: only config evidence; none: nothing. */
  source: "wire" | "config" | "none";
  state: "ok" | "at_risk" | "noncompliant" | "excepted" | "unknown";
  /** Findings that count (uncovered), most severe first. */
  findings: string[];
  /** Findings hidden by an exception, with the exception. */
  excepted: string[];
  /** Config findings the wire of the same direction contradicts: shown, never counted. */
  advisories: string[];
}

const SEVERITY: Record<Finding["kind"], number> = { "no-tls12": 0, prerequisite: 1, "no-starttls": 2, legacy: 3 };
const bySeverity = (a: Finding, b: Finding) => SEVERITY[a.kind] - SEVERITY[b.kind];

interface Analysis {
  findings: Finding[];
  uncovered: Finding[];
  advisories: Finding[];
  decidedByWire: Record<Direction, boolean>;
}

function analyse(ev: StatusEvidence): Analysis {
  const decidedByWire = { inbound: false, outbound: false };
  for (const w of ev.wire) if (isConclusive(w)) decidedByWire[directionOf(w)] = true;
  const findings: Finding[] = wireFindings(ev.wire);
  const advisories: Finding[] = [];
  for (const d of DIRECTIONS) (decidedByWire[d] ? advisories : findings).push(...configFindings(ev.config, d));
  findings.push(...prerequisiteFindings(ev.config));
  findings.sort(bySeverity);
  const uncovered = findings.filter((f) => !covering(f, ev.exceptions, ev.now));
  return { findings, uncovered, advisories, decidedByWire };
}

/** Per direction: what decides it, what it shows, and what is advisory only. */
export function directionVerdicts(ev: StatusEvidence): Record<Direction, DirectionVerdict> {
  const a = analyse(ev);
  const out = {} as Record<Direction, DirectionVerdict>;
  for (const d of DIRECTIONS) {
    const mine = a.findings.filter((f) => f.direction === d);
    const open = a.uncovered.filter((f) => f.direction === d);
    const hasConfig = ev.config.some((c) => c.sides.some((s) => s.direction === d));
    const source = a.decidedByWire[d] ? "wire" : hasConfig ? "config" : "none";
    const state: DirectionVerdict["state"] = open.some((f) => f.kind !== "legacy")
      ? "at_risk"
      : open.length > 0
        ? "noncompliant"
        : mine.length > 0
          ? "excepted"
          : source === "none"
            ? "unknown"
            : "ok";
    out[d] = {
      direction: d,
      source,
      state,
      findings: open.map((f) => f.text),
      excepted: mine.filter((f) => !open.includes(f)).map((f) => `${f.text}; excepted until ${formatUtc(covering(f, ev.exceptions, ev.now)![0]!.expiresAt)}`),
      advisories: a.advisories.filter((f) => f.direction === d).map((f) => f.text),
    };
  }
  return out;
}

/** "; also <the most severe finding of the other direction>" so an explanation names both. */
function alsoOther(primary: Finding, uncovered: Finding[]): string {
  const other = uncovered.find((f) => f.direction !== primary.direction && f.text !== primary.text);
  return other ? `; also ${other.text}` : "";
}

function advisoryNote(advisories: Finding[]): string {
  if (advisories.length === 0) return "";
  const first = advisories[0]!;
  return `; advisory, not seen on the wire: ${first.text}${advisories.length > 1 ? ` (+${advisories.length - 1} more)` : ""}`;
}

function sideText(config: ConfigEvidence[], direction: Direction): string | null {
  const sides = config.flatMap((c) => c.sides.filter((s) => s.direction === direction).map((s) => `${s.summary} (${c.playbook} config at ${formatUtc(c.takenAt)})`));
  const label = DIRECTION_LABEL[direction];
  return sides.length ? `${label[0]!.toLowerCase()}${label.slice(1)}: ${sides.join("; ")}` : null;
}

export function evaluateHostStatus(ev: StatusEvidence): HostStatusResult {
  const { wire, config, now } = ev;
  if (wire.length === 0 && config.length === 0) return { status: "unknown", explanation: "Never scanned" };

  const { findings, uncovered, advisories, decidedByWire } = analyse(ev);
  const inboundWire = wire.filter((w) => directionOf(w) === "inbound");
  const reachable = inboundWire.filter(isConclusive);
  const unreachable = inboundWire.filter((w) => w.verdict === "unreachable");
  const errored = inboundWire.filter((w) => w.verdict === "error");
  const pending = config.find((c) => c.rebootPending);
  const inboundSides = config.flatMap((c) => c.sides.filter((s) => s.direction === "inbound"));

  // A change waiting for its restart explains an inbound wire that still shows the old state:
  // the server side's config already enables TLS 1.2 (or disables legacy) and the wire does not.
  if (pending) {
    const pendingInbound = config.filter((c) => c.rebootPending).flatMap((c) => c.sides.filter((s) => s.direction === "inbound"));
    const explains = (f: Finding) =>
      f.source === "wire" && f.direction === "inbound" && ((f.kind === "no-tls12" && pendingInbound.some((s) => s.tls12Enabled === true)) || (f.kind === "legacy" && pendingInbound.some((s) => s.legacyEnabled === false)));
    const explained = uncovered.filter(explains);
    if (explained.length > 0) {
      const remaining = uncovered.filter((f) => !explains(f));
      const risk = remaining.find((f) => f.kind !== "legacy");
      const stale = `${pending.playbook} config changed (${pending.summary}) but not effective until the restart; the wire still shows: ${explained[0]!.text}`;
      if (risk) return { status: "at_risk", explanation: `${risk.text} (not fixed by the pending restart); ${stale}` };
      const after = remaining.find((f) => f.kind === "legacy");
      return { status: "pending_reboot", explanation: `${stale}${after ? `; after the restart still: ${after.text}` : ""}` };
    }
  }

  if (findings.length > 0 && uncovered.length === 0) {
    const e = covering(findings[0]!, ev.exceptions, now)![0]!;
    return { status: "excepted", explanation: `${findings[0]!.text}; excepted until ${formatUtc(e.expiresAt)}: ${e.justification}` };
  }

  // The server side's config says fixed, the wire says otherwise: one of them is wrong.
  const serverFixed = inboundSides.length > 0 && inboundSides.every((s) => s.legacyEnabled === false && s.tls12Enabled !== false && s.tlsOffered !== false);
  const wireContradicts = uncovered.find((f) => f.source === "wire" && f.direction === "inbound" && f.kind !== "no-starttls");
  // An Exchange build too old for its config explains a wire that disagrees with it: at_risk below.
  const blocked = uncovered.some((f) => f.kind === "prerequisite");
  if (serverFixed && decidedByWire.inbound && wireContradicts && !blocked) {
    const side = inboundSides[0]!;
    return { status: "mismatch", explanation: `Inbound config says fixed (${side.summary}) but ${wireContradicts.text}${alsoOther(wireContradicts, uncovered)}` };
  }

  const risk = uncovered.find((f) => f.kind !== "legacy");
  if (risk) return { status: "at_risk", explanation: `${risk.text}${alsoOther(risk, uncovered)}` };
  const legacy = uncovered.find((f) => f.kind === "legacy");
  if (legacy) return { status: "noncompliant", explanation: `${legacy.text}${alsoOther(legacy, uncovered)}${advisoryNote(advisories)}` };
  if (pending) return { status: "pending_reboot", explanation: `A change waits for a reboot (${pending.summary})` };

  if (unreachable.length > 0) {
    const u = unreachable[0]!;
    return { status: "unreachable", explanation: `${where(u)} unreachable at ${formatUtc(u.probedAt)}${u.error ? `: ${u.error}` : ""}${reachable.length ? `; ${reachable.length} other endpoint(s) fine` : ""}` };
  }
  if (errored.length > 0) {
    const e = errored[0]!;
    return { status: "error", explanation: `No conclusive handshake on ${where(e)} at ${formatUtc(e.probedAt)}${e.error ? `: ${e.error}` : ""}` };
  }
  const outbound = decidedByWire.outbound ? null : sideText(config, "outbound");
  if (reachable.length === 0) {
    // No inbound handshake: the outbound check (when one was made) and the config speak.
    const outboundWire = wire.filter((w) => directionOf(w) === "outbound" && isConclusive(w));
    const checked = outboundWire.map((w) => {
      const version = WIRE_VERSIONS_NEWEST_FIRST.find((v) => w.protocols[v] === "accepted");
      return `outbound via ${where(w)}: ${version ? TLS_VERSION_LABEL[version] : "TLS 1.2+"} negotiated at ${formatUtc(w.probedAt)}`;
    });
    const inbound = sideText(config, "inbound");
    const parts = [inbound, outbound].filter((x): x is string => x !== null);
    const c = config[0];
    const configText = parts.length ? parts.join("; ") : c ? `${c.summary} at ${formatUtc(c.takenAt)}` : null;
    const explanation = [checked.length ? `Wire: ${checked.join("; ")}` : null, configText ? `Config: ${configText}` : null].filter((x): x is string => x !== null).join("; ");
    return { status: "compliant", explanation: `${explanation} (${checked.length ? "no inbound wire evidence yet" : "no wire evidence yet"})` };
  }
  const latest = reachable.reduce((a, b) => (a.probedAt > b.probedAt ? a : b));
  return {
    status: "compliant",
    explanation: `TLS 1.0/1.1 rejected and TLS 1.2+ accepted on ${reachable.map(where).join(", ")} at ${formatUtc(latest.probedAt)}${outbound ? `; ${outbound}` : ""}${advisoryNote(advisories)}`,
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
