// Which connection an endpoint's probe makes next, in which order, and what their results add up
// to. The connections themselves (connect, dialog, handshake) are probe.ts's; this is the plan
// around them: each version once in PROBE_ORDER, an unknown one once more, a certificate
// handshake in hello mode, a pause when the server says "try again later", and a stop as soon as
// one result decides the whole endpoint. At most `perHost` connections run at once ("lanes").

import type { ProbeMode } from "./probe";
import type { VersionFinding } from "./silent-close";
import type { TryLater } from "./try-later";
import { TLS_VERSIONS, type CertificateSummary, type Outcome, type TlsVersion } from "./types";

/** Why an endpoint's connections stopped before the schedule ran out of work. */
export type StopReason = "deadline" | "cancelled" | "concluded";

/** What one connection does after the dialog. */
export type AttemptKind = "hello" | "full" | "certificate";

/** What one connection found out. */
export type AttemptResult =
  | {
      kind: "version";
      outcome: Outcome;
      reason: string | null;
      cipher?: string;
      certificate?: CertificateSummary | null;
      /** Closed or reset with no byte from the server after our ClientHello (see silent-close.ts). */
      silentClose?: boolean;
      /** The handshake ran to the end (whatever version the server then picked). */
      completed?: boolean;
      /** The server refused this connection as temporary (SMTP 4yz before TLS): ask again later. */
      tryLater?: boolean;
    }
  /** No TCP connection, or no greeting in time: ends the endpoint unless another attempt got through. */
  | { kind: "unreachable"; reason: string; message: string }
  /** Conclusive for every version: STARTTLS not offered, or the peer does not speak the protocol. */
  | { kind: "not-offered" | "garbage"; reason: string; message: string };

/** A result that decides the endpoint for every version. */
export type Conclusion = Exclude<AttemptResult, { kind: "version" }>;

// TLS 1.2 first: it decides at_risk, and on a slow endpoint it is the answer we most want
// before the deadline. Then 1.3, then the legacy versions.
export const PROBE_ORDER: readonly TlsVersion[] = ["TLSv1.2", "TLSv1.3", "TLSv1", "TLSv1.1"];
const NEWEST_FIRST: readonly TlsVersion[] = [...TLS_VERSIONS].reverse();

// Hello mode: when no full handshake got through yet, the certificate (and the cipher, end to
// end) come from one at the highest accepted version, queued as soon as that version is known
// to be the highest. A second attempt goes one version down when there is one.
const MAX_CERTIFICATE_ATTEMPTS = 2;

export interface VersionScheduleOptions {
  mode: ProbeMode;
  /** Retry each version whose outcome is unknown once before concluding. */
  retryUnknown: boolean;
  /** Connections to the endpoint's address at once (the connection gate's per-host limit). */
  perHost: number;
  /** Aborted when the endpoint stops (deadline, cancel, or conclude()): no connection starts after it. */
  signal: AbortSignal;
  /** One connection for `version`. Never throws. */
  attempt: (version: TlsVersion, kind: AttemptKind) => Promise<AttemptResult>;
  /** Some connection of this endpoint got through (TCP, and the greeting where there is one). */
  isReachable: () => boolean;
  /** A result decided the endpoint: stop it (the caller aborts `signal`). */
  conclude: () => void;
  /** Pacing for "try again later" refusals, one per endpoint. */
  tryLater: TryLater;
  /** Waits `ms` before the refused connection is made again; ends early when the endpoint stops. */
  waitBeforeRetry: (ms: number) => Promise<void>;
}

/** What the connections of one endpoint found, for the report. */
export interface VersionFindings {
  /** Per version, the last answer that counts (a certificate handshake never overrides one). */
  outcomes: Map<TlsVersion, VersionFinding>;
  /** Versions for which some handshake ran to the end (for the silent-close rule). */
  handshakeCompleted: Set<TlsVersion>;
  /** Negotiated cipher per accepted version, where a full handshake told it. */
  cipher: Partial<Record<TlsVersion, string>>;
  certificate: CertificateSummary | null;
  /** The result that decided the whole endpoint, if one did. */
  conclusion: Conclusion | null;
}

interface Job {
  version: TlsVersion;
  retry: boolean;
  kind: AttemptKind;
}

export class VersionSchedule {
  private readonly queue: Job[];
  private readonly retryKind: AttemptKind;
  /** Versions whose outcome will not change any more (decided, or unknown after its retry). */
  private readonly settledVersions = new Set<TlsVersion>();
  private certificateAttempts: number;
  private fullHandshakeAccepted = false;
  private certificatePending = false;
  private readonly findings: VersionFindings = {
    outcomes: new Map(),
    handshakeCompleted: new Set(),
    cipher: {},
    certificate: null,
    conclusion: null,
  };

  constructor(private readonly o: VersionScheduleOptions) {
    // Hello mode tests TLS 1.3 with the full handshake that also reads the certificate: 1.3 is the
    // highest version, so whenever it is accepted that handshake would be made at 1.3 anyway, and a
    // separate 1.3 hello would only cost both sides another connection (20-25% of the CPU on the
    // bench layout). Its retry, and every other version, is a hello.
    this.queue = PROBE_ORDER.map((version) => ({
      version,
      retry: false,
      kind: o.mode === "full" || version === "TLSv1.3" ? "full" : "hello",
    }));
    this.retryKind = o.mode === "hello" ? "hello" : "full";
    this.certificateAttempts = o.mode === "hello" ? 0 : MAX_CERTIFICATE_ATTEMPTS;
  }

  /** Runs every connection the endpoint needs and resolves once the last lane is done. */
  async run(): Promise<VersionFindings> {
    // Versions run two at a time at most (the per-host limit); the gate enforces the same limit
    // across endpoints that share the address.
    const lanes = Math.min(this.o.perHost, PROBE_ORDER.length);
    await Promise.all(Array.from({ length: lanes }, () => this.lane()));
    return this.findings;
  }

  private async lane(): Promise<void> {
    const { signal } = this.o;
    for (let job = this.queue.shift(); job && !signal.aborted; job = this.queue.shift()) {
      const result = await this.o.attempt(job.version, job.kind);
      if (signal.aborted) {
        // A result that arrived complete still counts; one cut short by the stop does not.
        if (result.kind === "version" && result.outcome !== "unknown") this.record(job.version, result, job.kind);
        break;
      }
      const wait = result.kind === "version" && result.tryLater ? this.o.tryLater.next() : null;
      if (wait !== null) {
        // The same job again after the pause; meanwhile the address gets one connection at a time.
        await this.o.waitBeforeRetry(wait);
        this.queue.unshift(job);
        continue;
      }
      if (job.kind === "certificate") {
        // Whatever happened to it, this connection concludes nothing about the endpoint.
        this.certificatePending = false;
        if (result.kind === "version") this.record(job.version, result, job.kind);
      } else if (result.kind === "version") {
        this.record(job.version, result, job.kind);
        if (result.outcome === "unknown" && !job.retry && this.o.retryUnknown) this.queue.push({ version: job.version, retry: true, kind: this.retryKind });
        else this.settledVersions.add(job.version);
      } else if (result.kind === "unreachable" && this.o.isReachable()) {
        // Another connection got through, so this one failing says nothing about the endpoint.
        this.findings.outcomes.set(job.version, { outcome: "unknown", reason: result.reason });
        if (!job.retry && this.o.retryUnknown) this.queue.push({ version: job.version, retry: true, kind: this.retryKind });
        else this.settledVersions.add(job.version);
      } else {
        this.findings.conclusion ??= result;
        this.o.conclude();
      }
      this.queueCertificateHandshake();
    }
  }

  private record(version: TlsVersion, result: Extract<AttemptResult, { kind: "version" }>, kind: AttemptKind): void {
    const f = this.findings;
    if (result.completed) f.handshakeCompleted.add(version);
    if (result.completed && result.outcome === "accepted") this.fullHandshakeAccepted = true;
    if (result.outcome === "accepted") {
      if (result.cipher) f.cipher[version] = result.cipher;
      if (result.certificate !== undefined) f.certificate ??= result.certificate;
    }
    // The certificate handshake never overrides what the ServerHello said: that was the
    // server's commitment to the version.
    if (kind !== "certificate") f.outcomes.set(version, { outcome: result.outcome, reason: result.reason, silentClose: result.silentClose });
  }

  private queueCertificateHandshake(): void {
    if (this.fullHandshakeAccepted || this.certificatePending || this.certificateAttempts >= MAX_CERTIFICATE_ATTEMPTS) return;
    const accepted: TlsVersion[] = [];
    for (const version of NEWEST_FIRST) {
      if (!this.settledVersions.has(version)) {
        // Not known yet, and it would outrank what is accepted so far: wait for it.
        if (accepted.length === 0) return;
        continue;
      }
      if (this.findings.outcomes.get(version)?.outcome === "accepted") accepted.push(version);
    }
    if (accepted.length === 0) return;
    const version = accepted[Math.min(this.certificateAttempts, accepted.length - 1)]!;
    this.certificateAttempts++;
    this.certificatePending = true;
    this.queue.unshift({ version, retry: false, kind: "certificate" });
  }
}
