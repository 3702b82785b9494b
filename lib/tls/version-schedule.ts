// Which connection an endpoint's probe makes next, in which order, and what their results add up
// to. The connections themselves (connect, dialog, handshake) are probe.ts's; this is the plan
// around them: each version once in PROBE_ORDER, an unknown one once more, in hello mode TLS 1.3
// only when the TLS 1.2 answer did not already prove it and a certificate handshake only when no
// hello's flight carried the certificate, a pause when the server says "try again later", and a
// stop as soon as one result decides the whole endpoint. At most `perHost` connections run at once
// ("lanes").

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
      /** A hello got a well-formed ServerHello for the version it offered: the server speaks TLS here. */
      serverHelloRead?: boolean;
      /** A TLS 1.2 ServerHello carried RFC 8446 4.1.3's downgrade sentinel: the server speaks TLS 1.3. */
      tls13Sentinel?: boolean;
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

/** The reason shown for TLS 1.3 when no 1.3 connection was made because the 1.2 answer proved it. */
export const TLS13_FROM_SENTINEL = "accepted: downgrade sentinel in the TLS 1.2 ServerHello (RFC 8446 4.1.3)";

// Hello mode: when no hello's flight carried the certificate (TLS 1.3 only, or flights cut
// short), it comes from one full handshake at the highest accepted version, queued once every
// version is settled. A second attempt goes one version down when there is one.
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
  /**
   * Versions at which the server demonstrably spoke TLS (for the silent-close rule): a handshake
   * ran to the end, or a hello got a well-formed ServerHello for the version it offered.
   */
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
  private tls13Queued = false;
  /** Some accepted answer carried the certificate (a full handshake, or a <=1.2 hello's flight). */
  private certificateKnown = false;
  private certificatePending = false;
  private readonly findings: VersionFindings = {
    outcomes: new Map(),
    handshakeCompleted: new Set(),
    cipher: {},
    certificate: null,
    conclusion: null,
  };

  constructor(private readonly o: VersionScheduleOptions) {
    // Hello mode queues TLS 1.3 only once the first TLS 1.2 answer is in (see settleTls13From): a
    // 1.2 ServerHello with the downgrade sentinel already proves 1.3, saving a connection on
    // every modern server; without it, a 1.3 hello asks.
    this.queue = PROBE_ORDER.filter((version) => o.mode === "full" || version !== "TLSv1.3").map((version) => ({
      version,
      retry: false,
      kind: o.mode === "full" ? "full" : "hello",
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
        if (job.version === "TLSv1.2") this.settleTls13From(result);
      } else if (result.kind === "unreachable" && this.o.isReachable()) {
        // Another connection got through, so this one failing says nothing about the endpoint.
        this.findings.outcomes.set(job.version, { outcome: "unknown", reason: result.reason });
        if (!job.retry && this.o.retryUnknown) this.queue.push({ version: job.version, retry: true, kind: this.retryKind });
        else this.settledVersions.add(job.version);
        if (job.version === "TLSv1.2") this.settleTls13From(null);
      } else {
        this.findings.conclusion ??= result;
        this.o.conclude();
      }
      this.queueCertificateHandshake();
    }
  }

  /**
   * Hello mode, after a TLS 1.2 answer (null: no answer at all): the downgrade sentinel settles
   * TLS 1.3 as accepted without a connection; anything else, its absence included, proves nothing
   * about 1.3 (a 1.3 server behind a 1.2-only terminator, or one that ignores the MUST, sends no
   * sentinel), so a 1.3 hello asks, ahead of the legacy versions. Only the first 1.2 answer
   * queues it; a sentinel in the retry's answer still fills in a 1.3 that is unknown by then.
   */
  private settleTls13From(result: Extract<AttemptResult, { kind: "version" }> | null): void {
    if (this.o.mode !== "hello") return;
    const f = this.findings;
    if (result?.outcome === "accepted" && result.tls13Sentinel) {
      const before = f.outcomes.get("TLSv1.3")?.outcome;
      if (before === undefined || before === "unknown") f.outcomes.set("TLSv1.3", { outcome: "accepted", reason: TLS13_FROM_SENTINEL });
      if (!this.tls13Queued) this.settledVersions.add("TLSv1.3");
      this.tls13Queued = true;
      return;
    }
    if (!this.tls13Queued) {
      this.tls13Queued = true;
      this.queue.unshift({ version: "TLSv1.3", retry: false, kind: "hello" });
    }
  }

  private record(version: TlsVersion, result: Extract<AttemptResult, { kind: "version" }>, kind: AttemptKind): void {
    const f = this.findings;
    if (result.completed || result.serverHelloRead) f.handshakeCompleted.add(version);
    if (result.outcome === "accepted") {
      if (result.cipher) f.cipher[version] = result.cipher;
      if (result.certificate !== undefined) {
        f.certificate ??= result.certificate;
        this.certificateKnown = true;
      }
    }
    // The certificate handshake never overrides what the ServerHello said: that was the
    // server's commitment to the version. Nor does a 1.3 hello that got no answer override the
    // sentinel's proof.
    const provenByTls12 = version === "TLSv1.3" && result.outcome === "unknown" && f.outcomes.get(version)?.reason === TLS13_FROM_SENTINEL;
    if (kind !== "certificate" && !provenByTls12) f.outcomes.set(version, { outcome: result.outcome, reason: result.reason, silentClose: result.silentClose });
  }

  private queueCertificateHandshake(): void {
    if (this.certificateKnown || this.certificatePending || this.certificateAttempts >= MAX_CERTIFICATE_ATTEMPTS) return;
    // Any TLS 1.0-1.2 hello still to come may yet bring the certificate in its flight.
    if (TLS_VERSIONS.some((version) => !this.settledVersions.has(version))) return;
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
