// The playbook contract: how tlsfleet reads, plans, changes and restores
// one kind of TLS configuration on a remote host. Playbooks talk to hosts only through
// RemoteSession (argv, never shell strings) and never touch the database: `Host` here is the
// minimal structural shape they need, not the Prisma model.

import type { ConfigSide } from "../../lib/compliance/status";
import type { RemoteSession } from "../transport/types";

export type Goal = "enable-tls12" | "disable-legacy";
export const GOALS: readonly Goal[] = ["enable-tls12", "disable-legacy"];

/** What a playbook needs to know about a host; the Prisma Host satisfies it structurally. */
export interface Host {
  name: string;
  platform: "windows" | "linux" | "other";
  roles: readonly string[];
}

/** One remote command and what it printed, kept with every snapshot for the audit trail. */
export interface RawOutput {
  argv: string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** A config snapshot (the ConfigSnapshot evidence). Every playbook's state extends this; the
 *  summary fields map onto lib/compliance's ConfigEvidence (`sides` one to one). */
export interface ConfigState {
  playbookId: string;
  /** ISO 8601. */
  collectedAt: string;
  /** true: config lets TLS 1.0 or 1.1 be negotiated; false: it blocks both; null: cannot tell. */
  legacyEnabled: boolean | null;
  /** true: TLS 1.2 is enabled; false: disabled; null: cannot tell. */
  tls12Enabled: boolean | null;
  /** The host itself reports a pending restart (Windows servicing indicators). A change we just
   *  made is reported by `Applied.pendingReboot`, not here: Windows does not flag it. */
  rebootPending: boolean;
  /** What no configuration value fixes and an update must (an Exchange build too old for TLS
   *  1.2), one line each in the operator's terms: each makes the host at_risk, both directions. */
  prerequisites?: string[];
  /** One line in the operator's terms, e.g. "TLS 1.2: Disabled (Server Enabled=0, DisabledByDefault=1)". */
  summary: string;
  /** The verdict per direction (lib/compliance ConfigSide): inbound = the host as TLS server (its
   *  listeners: SCHANNEL `TLS x\Server`, Postfix smtpd_*, nginx, Dovecot), outbound = the host as
   *  TLS client (SCHANNEL `TLS x\Client` and the .NET values, Postfix smtp_*). The top-level
   *  legacyEnabled / tls12Enabled are both directions together. */
  sides: ConfigSide[];
  raw: RawOutput[];
}

export type ChangeValue = string | number | null;

/** One line of the dry-run diff. `null` means absent: from null = the value does not exist yet,
 *  to null = the value is deleted. */
export interface Change {
  /** Where the setting lives: a registry key, a config file. */
  path: string;
  /** The value or parameter name inside `path`. */
  value: string;
  from: ChangeValue;
  to: ChangeValue;
  /** Why, for the plan shown to the approver. */
  reason: string;
}

export interface Applied {
  /** The state before anything was written: what rollback restores. */
  before: ConfigState;
  /** Read back after writing; every change is verified against it. */
  after: ConfigState;
  /** Only the changes that were actually written (already-correct values are skipped). */
  changes: Change[];
  /** The change is not effective until the host restarts (Windows SCHANNEL and .NET). */
  pendingReboot: boolean;
}

export interface RebootOptions {
  delaySeconds: number;
  /** Shown to logged-on users and written to the System event log. */
  message: string;
}

export interface ApplyOptions<S extends ConfigState = ConfigState> {
  /** What `check` returned over this same session just before: apply writes against it instead
   *  of reading the host a second time (a remediate task has just checked the plan against it;
   *  the read-back after the writes is what proves the result either way). */
  before?: S;
  /** Called with the before-state, before anything is written, so the caller can persist it (a
   *  worker that dies mid-apply still has what rollback needs). */
  onBefore?(before: S): void | Promise<void>;
}

export interface Playbook<S extends ConfigState = ConfigState> {
  id: string;
  appliesTo(host: Host): boolean;
  /** Read-only. */
  check(s: RemoteSession): Promise<S>;
  /** Pure: the dry-run diff from `state` to the goal; empty when nothing needs to change. */
  plan(state: S, goal: Goal): Change[];
  /** Idempotent; refuses changes outside what the playbook manages. */
  apply(s: RemoteSession, changes: Change[], opts?: ApplyOptions<S>): Promise<Applied>;
  /** Restores every value the playbook manages to `before` (values absent then are deleted).
   *  Returns what it wrote, like apply: a Windows rollback is also pending until reboot. */
  rollback(s: RemoteSession, before: ConfigState): Promise<Applied>;
  /** Schedules a restart, for playbooks whose changes need one. */
  reboot?(s: RemoteSession, opts: RebootOptions): Promise<void>;
  /** Why `goal` cannot work on this host whatever its configuration (e.g. an Exchange build
   *  too old for TLS 1.2), or null. The plan skips the host with this reason. */
  prerequisites?(state: S, goal: Goal): string | null;
  /** The state in the operator's terms, one task-log line each (no playbook-id branching in tasks). */
  describe(state: S): string[];
  /**
   * For configuration that takes effect only after a restart and that the host does not flag as
   * pending (SCHANNEL): how a task tells "changed since last read" and "restarted since".
   */
  effectiveAfterRestart?: {
    /** What changed, in the operator's terms: "SCHANNEL/.NET values". */
    what: string;
    /** A stable fingerprint of the values whose change needs a restart ("" when the state holds none). */
    managedValues(state: S): string;
    /** When the host last booted (ISO 8601 UTC), null when it cannot be read: a change is in
     *  effect once a check sees a boot after it, and only then. */
    lastBootAt(state: S): string | null;
  };
}

/** A playbook step failed in a way the operator can act on; carries the host and, after a
 *  partial apply, the before-state and what was already written, so rollback stays possible. */
export class PlaybookError extends Error {
  readonly hostLabel: string;
  readonly before: ConfigState | null;
  readonly written: Change[];
  constructor(hostLabel: string, message: string, opts: { before?: ConfigState | null; written?: Change[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "PlaybookError";
    this.hostLabel = hostLabel;
    this.before = opts.before ?? null;
    this.written = opts.written ?? [];
  }
}
