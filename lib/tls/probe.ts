import { isIP, Socket } from "node:net";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import { type AllowList } from "./allowlist";
import { checkTarget, TargetRefusedError, TargetUnresolvedError, type CheckedTarget, type DenyEntry, type Resolver } from "./connect-target";
import { summarizeCertificate } from "./certificate";
import { ConnectionGate, sharedConnectionGate, type Slot } from "./connection-gate";
import { DialogFailure, PlaintextChannel, negotiateStartTls } from "./dialog";
import { classifyHandshakeError } from "./handshake-errors";
import { buildClientHello } from "./client-hello";
import { CERTIFICATE_FLIGHT_CAP, DEFAULT_FIRST_FLIGHT_CAP, FirstFlightReader, judgeFirstFlight, type FirstFlight } from "./first-flight";
import { isService, serviceForPort, startTlsDialogFor, type StartTlsDialog } from "./services";
import { printable } from "./dialog-parsing";
import { pause, TryLater } from "./try-later";
import { formatTarget, isHostName } from "./targets";
import type { ProbeReport, ProbeTarget, Service, TlsVersion } from "./types";
import { VersionSchedule, type AttemptKind, type AttemptResult, type StopReason } from "./version-schedule";
import { DeadlineBudget } from "./deadline-budget";
import { endpointReport, failedReport, type ReportBase } from "./endpoint-report";
import { StopOnce } from "../stop-once";

export { NOT_TESTABLE } from "./endpoint-report";

/**
 * How each version is tested (README "hello or full: the trade-off").
 * - "hello": every version by a hand-built ClientHello offering only that version, judged by the
 *   server's first flight, as sslscan and testssl.sh do; no handshake is finished. TLS 1.2 goes
 *   first: its flight carries the certificate in clear (so do 1.0/1.1 ones), and a DOWNGRD\x01
 *   sentinel in its ServerHello (RFC 8446 4.1.3) proves TLS 1.3, which then costs no connection.
 *   Without the sentinel a 1.3 hello asks (the absence proves nothing). A full handshake is made
 *   only to read the certificate when no <=1.2 flight gave it (a 1.3-only server, flights cut
 *   short). 3 connections against a typical OpenSSL server, no signature for plain-RSA-first hellos.
 * - "full": per version a complete Node/OpenSSL handshake pinned to that version.
 */
export type ProbeMode = "hello" | "full";
export const PROBE_MODES: readonly ProbeMode[] = ["hello", "full"];
export const DEFAULT_PROBE_MODE: ProbeMode = "hello";

export interface ProbeOptions {
  /** Default "hello" (see ProbeMode). */
  mode?: ProbeMode;
  /** Connect timeout, and the limit for each dialog step and for each handshake. Default 8000 ms. */
  timeoutMs?: number;
  /**
   * Limit for a whole endpoint, retries included. Default 30000 ms. The clock starts when the
   * endpoint's first connection gets a slot, so waiting behind other endpoints of the same host
   * does not eat into it.
   */
  deadlineMs?: number;
  /** Plaintext bytes accepted before TLS starts (greeting, EHLO reply...). Default 64 KiB. */
  maxPreTlsBytes?: number;
  /** Where probes may go; null or absent means anywhere. Refused targets get no connection at all. */
  allowList?: AllowList | null;
  /** Resolves the host name (once per endpoint). Default: the system resolver. For tests. */
  resolver?: Resolver;
  /** Addresses refused even inside the allowed ranges. Default: the built-in deny list and the
   *  database host (connect-target.ts defaultDenyList). */
  denyList?: readonly DenyEntry[];
  /** Name sent in SMTP EHLO. Default: this machine's host name. */
  heloName?: string;
  /** Limits shared with other probes. Default: the process-wide gate (2 per address, 256 in total). */
  connectionGate?: ConnectionGate;
  /** Retry each version whose outcome is unknown once before concluding. Default true. */
  retryUnknown?: boolean;
  /** Cancels the probe; versions not finished are reported unknown ("cancelled"). */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 8_000;
export const DEFAULT_DEADLINE_MS = 30_000;
export const DEFAULT_MAX_PRE_TLS_BYTES = 64 * 1024;

const secureContexts = new Map<TlsVersion, SecureContext>();

/**
 * One SecureContext per version for the whole process: building an SSL_CTX per connection is
 * the single largest avoidable CPU cost. Sharing it shares no state between connections: Node
 * keeps no client session cache, so nothing is resumed across probes.
 */
function secureContextFor(version: TlsVersion): SecureContext {
  let context = secureContexts.get(version);
  if (!context) {
    context = createSecureContext({
      minVersion: version,
      maxVersion: version,
      // OpenSSL 3 only negotiates TLS 1.0/1.1 at security level 0 (docs/domain.md "What the library allows").
      ...(version === "TLSv1" || version === "TLSv1.1" ? { ciphers: "ALL:@SECLEVEL=0" } : {}),
    });
    secureContexts.set(version, context);
  }
  return context;
}

interface EndpointRun {
  address: string;
  port: number;
  servername: string | undefined;
  dialog: StartTlsDialog | null;
  timeoutMs: number;
  maxPreTlsBytes: number;
  heloName: string;
  gate: ConnectionGate;
  /** This endpoint's place in the gate's line, shared by all its connections. */
  ticket: number;
  stop: StopOnce<StopReason>;
  stopReason: () => StopReason;
  budget: DeadlineBudget;
  /** The service answered; `serverName` is who it says it is (an SMTP greeting's domain). */
  markReachable: (serverName?: string | null) => void;
  isReachable: () => boolean;
  claimCertificate: () => boolean;
  markStartTlsAccepted: () => void;
}

/**
 * Probes one endpoint: for each TLS version a fresh connection (and STARTTLS dialog where the
 * service has one) and a handshake restricted to that version. Never throws and never leaves a
 * socket or timer behind: every problem ends up in the report.
 */
export async function probeEndpoint(target: ProbeTarget, options: ProbeOptions = {}): Promise<ProbeReport> {
  const startedAt = performance.now();
  const givenService: unknown = target.service;
  const service: Service = typeof givenService === "string" && isService(givenService) ? givenService : serviceForPort(target.port);
  const rawHost = typeof target.host === "string" ? target.host.trim() : "";
  const host = rawHost.startsWith("[") && rawHost.endsWith("]") ? rawHost.slice(1, -1) : rawHost;
  const base = { target: formatTarget(printable(host), target.port), service, startedAt };

  const hostIsAddress = isIP(host) !== 0;
  // Checked before any DNS lookup: a malformed name must not even reach the resolver.
  if (givenService !== undefined && service !== givenService) {
    return failedReport(base, "error", `bad target: unknown service '${printable(String(givenService))}'`, "not tested");
  }
  if (!(hostIsAddress || isHostName(host)) || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    return failedReport(base, "error", `bad target: host '${printable(String(target.host))}' port ${String(target.port)}`, "not tested");
  }
  const timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS);

  // Resolved once and checked here; every connection of this endpoint goes to `checked.address`.
  let checked: CheckedTarget;
  try {
    checked = await checkTarget(host, { allowList: options.allowList ?? null, resolver: options.resolver, deny: options.denyList, timeoutMs });
  } catch (error) {
    if (error instanceof TargetRefusedError) {
      // The scan task and the reports key on this exact text for a range refusal.
      const message = error.kind === "outside" ? "target not in allowed ranges" : `target not allowed: ${error.reason}`;
      return failedReport(base, "error", message, "not allowed", error.address);
    }
    return failedReport(base, "unreachable", error instanceof TargetUnresolvedError ? error.message : `cannot resolve ${host}: ${errorText(error)}`, "not resolved");
  }
  const address = checked.address;

  return probeResolved({
    base,
    host,
    port: target.port,
    address,
    hostIsAddress,
    timeoutMs,
    deadlineMs: positive(options.deadlineMs, DEFAULT_DEADLINE_MS),
    maxPreTlsBytes: positive(options.maxPreTlsBytes, DEFAULT_MAX_PRE_TLS_BYTES),
    heloName: options.heloName ?? defaultHeloName(),
    gate: options.connectionGate ?? sharedConnectionGate,
    retryUnknown: options.retryUnknown ?? true,
    mode: options.mode === "full" ? "full" : DEFAULT_PROBE_MODE,
    signal: options.signal,
  });
}

async function probeResolved(p: {
  base: ReportBase;
  host: string;
  port: number;
  address: string;
  hostIsAddress: boolean;
  timeoutMs: number;
  deadlineMs: number;
  maxPreTlsBytes: number;
  heloName: string;
  gate: ConnectionGate;
  retryUnknown: boolean;
  mode: ProbeMode;
  signal: AbortSignal | undefined;
}): Promise<ProbeReport> {
  const dialog = startTlsDialogFor(p.base.service);
  let reachable = false;
  let startTlsAccepted = false;
  let certificateClaimed = false;

  const stop = new StopOnce<StopReason>();
  const stopWith = stop.stop;
  const budget = new DeadlineBudget(p.deadlineMs, () => stopWith("deadline"));
  const onCancel = () => stopWith("cancelled");
  if (p.signal?.aborted) stopWith("cancelled");
  else p.signal?.addEventListener("abort", onCancel, { once: true });

  const run: EndpointRun = {
    address: p.address,
    port: p.port,
    // SNI must be a name; RFC 6066 3 forbids literal addresses in server_name.
    servername: p.hostIsAddress ? undefined : p.host.replace(/\.$/, ""),
    dialog,
    timeoutMs: p.timeoutMs,
    maxPreTlsBytes: p.maxPreTlsBytes,
    heloName: p.heloName,
    gate: p.gate,
    ticket: p.gate.ticket(),
    stop,
    stopReason: () => stop.reason ?? "cancelled",
    budget,
    markReachable: (serverName) => {
      reachable = true;
      if (serverName) p.gate.identify(p.address, serverName);
    },
    isReachable: () => reachable,
    claimCertificate: () => !certificateClaimed && (certificateClaimed = true),
    markStartTlsAccepted: () => {
      startTlsAccepted = true;
    },
  };

  const schedule = new VersionSchedule({
    mode: p.mode,
    retryUnknown: p.retryUnknown,
    perHost: p.gate.perHost,
    signal: stop.signal,
    attempt: (version, kind) => attemptVersion(version, run, kind),
    isReachable: () => reachable,
    conclude: () => stopWith("concluded"),
    tryLater: new TryLater(p.deadlineMs),
    waitBeforeRetry: (ms) => {
      // Meanwhile the address gets one connection at a time.
      p.gate.slowDown(p.address, ms * 2);
      return pause(ms, stop.signal);
    },
  });
  const findings = await schedule.run();
  budget.dispose();
  p.signal?.removeEventListener("abort", onCancel);
  return endpointReport(p.base, p.address, findings, { stopReason: stop.reason, reachable, startTlsAccepted, dialog });
}

/** One connection: connect, dialog, handshake for `version`. Never throws. */
async function attemptVersion(version: TlsVersion, run: EndpointRun, kind: AttemptKind): Promise<AttemptResult> {
  let release: Slot;
  try {
    release = await run.gate.acquire(run.address, run.stop.signal, run.ticket);
  } catch {
    return { kind: "version", outcome: "unknown", reason: run.stopReason() };
  }
  run.budget.connectionStarted();
  try {
    return await connectAndProbe(version, run, release, kind);
  } finally {
    run.budget.connectionEnded();
  }
}

async function connectAndProbe(version: TlsVersion, run: EndpointRun, release: Slot, kind: AttemptKind): Promise<AttemptResult> {
  if (run.stop.signal.aborted) {
    release();
    return { kind: "version", outcome: "unknown", reason: run.stopReason() };
  }
  const socket = new Socket();
  let tlsSocket: TLSSocket | null = null;
  // The slot is free only once the socket is really gone, so "2 per host" counts closing ones too.
  socket.once("close", release);
  // Late errors (a reset after we stopped listening) must never become uncaught exceptions.
  socket.on("error", ignore);
  const onStop = () => {
    tlsSocket?.destroy();
    socket.destroy();
  };
  run.stop.signal.addEventListener("abort", onStop, { once: true });

  try {
    try {
      socket.setNoDelay(true);
      await settle(socket, "connect", run.timeoutMs, () => socket.connect({ host: run.address, port: run.port }));
    } catch (error) {
      if (run.stop.signal.aborted) return { kind: "version", outcome: "unknown", reason: run.stopReason() };
      const why = connectFailureText(error, run.timeoutMs);
      return { kind: "unreachable", reason: why, message: why };
    }

    if (run.dialog === null) {
      run.markReachable();
    } else {
      const channel = new PlaintextChannel(socket, run.maxPreTlsBytes);
      try {
        await negotiateStartTls(channel, run.dialog, {
          stepTimeoutMs: run.timeoutMs,
          heloName: run.heloName,
          onGreeting: ({ accepted, serverName }) => {
            run.markReachable(serverName);
            if (accepted) release.accepted();
          },
        });
      } catch (error) {
        // After a polite QUIT the channel closes the socket itself (with a cap on how long).
        if (!channel.isEnding) socket.destroy();
        if (run.stop.signal.aborted) return { kind: "version", outcome: "unknown", reason: run.stopReason() };
        if (!(error instanceof DialogFailure)) throw error;
        return dialogFailureResult(error, run);
      }
      run.markStartTlsAccepted();
      // Bytes before our ClientHello would be injected into the TLS session by a naive client
      // (CVE-2011-0411); for us they mean the peer is not following the protocol.
      if (channel.detach() > 0) {
        socket.destroy();
        return { kind: "version", outcome: "unknown", reason: "garbage (data after the STARTTLS reply)" };
      }
    }

    if (kind === "hello") return await helloExchange(version, socket, run);
    const wantCertificate = kind === "certificate" ? () => true : run.claimCertificate;
    return await handshake(version, socket, run, wantCertificate, (created) => (tlsSocket = created));
  } catch (error) {
    socket.destroy();
    return { kind: "version", outcome: "unknown", reason: `internal error: ${errorText(error)}` };
  } finally {
    run.stop.signal.removeEventListener("abort", onStop);
  }
}

function dialogFailureResult(failure: DialogFailure, run: EndpointRun): AttemptResult {
  if (failure.kind === "not-offered") return { kind: "not-offered", reason: "STARTTLS not offered", message: failure.message };
  if (failure.kind === "garbage") return { kind: "garbage", reason: "garbage", message: `garbage before TLS: ${failure.message}` };
  if (failure.phase === "greeting" && failure.kind === "timeout" && !run.isReachable()) {
    return { kind: "unreachable", reason: "no greeting", message: failure.message };
  }
  if (failure.temporary) {
    // Refused while our connections were open: the server allows fewer than that.
    if (failure.phase === "greeting") run.gate.refused(run.address);
    return { kind: "version", outcome: "unknown", reason: `try again later (${failure.message})`, tryLater: true };
  }
  return { kind: "version", outcome: "unknown", reason: `${failure.kind} (${failure.message})` };
}

function handshake(
  version: TlsVersion,
  socket: Socket,
  run: EndpointRun,
  wantCertificate: () => boolean,
  track: (tls: TLSSocket) => void,
): Promise<AttemptResult> {
  return new Promise<AttemptResult>((resolve) => {
    const tls = tlsConnect({
      socket,
      secureContext: secureContextFor(version),
      servername: run.servername,
      // We audit, we do not trust: an expired or self-signed certificate is still evidence.
      rejectUnauthorized: false,
    });
    track(tls);
    tls.on("error", ignore);
    // Anything the server sent after our ClientHello, even one byte, makes a close "unknown" for good.
    const bytesBeforeHello = socket.bytesRead;
    const silent = () => socket.bytesRead === bytesBeforeHello;
    let done = false;
    const finish = (result: AttemptResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      tls.off("error", onError);
      tls.off("close", onClose);
      resolve(result);
    };
    const timer = setTimeout(() => {
      tls.destroy();
      finish({ kind: "version", outcome: "unknown", reason: "timeout" });
    }, run.timeoutMs);
    const onError = (error: Error) => {
      tls.destroy();
      const reason = run.stop.signal.aborted ? run.stopReason() : null;
      if (reason) return finish({ kind: "version", outcome: "unknown", reason });
      const classified = classifyHandshakeError(error);
      const hungUp = classified.outcome === "unknown" && (classified.reason === "closed" || classified.reason === "reset");
      finish({ kind: "version", ...classified, silentClose: hungUp && silent() });
    };
    const onClose = () =>
      finish(
        run.stop.signal.aborted
          ? { kind: "version", outcome: "unknown", reason: run.stopReason() }
          : { kind: "version", outcome: "unknown", reason: "closed", silentClose: silent() },
      );
    tls.once("error", onError);
    tls.once("close", onClose);
    tls.once("secureConnect", () => {
      const negotiated = tls.getProtocol();
      let result: AttemptResult;
      if (negotiated !== version) {
        result = { kind: "version", outcome: "rejected", reason: `negotiated ${negotiated ?? "nothing"}`, completed: true };
      } else {
        result = { kind: "version", outcome: "accepted", reason: null, cipher: tls.getCipher()?.name, completed: true };
        if (wantCertificate()) {
          try {
            const peer = tls.getPeerX509Certificate();
            result.certificate = peer ? summarizeCertificate(peer) : null;
          } catch {
            result.certificate = null;
          }
        }
      }
      finish(result);
      // Close in order (close_notify, and QUIT over TLS for mail services: Postfix logs a
      // connection lost after STARTTLS as suspicious) and drain what the server still sends.
      // The per-address slot is freed only when the server has closed its side too, so from
      // the server's point of view we never hold more than 2 connections; hanging up with a
      // bare destroy() let a third connection arrive before the server had seen the second go.
      tls.resume();
      if (run.dialog === null) tls.end();
      else tls.end(run.dialog === "imap" ? "a003 LOGOUT\r\n" : "QUIT\r\n");
      setTimeout(() => tls.destroy(), 1000).unref();
    });
  });
}

/**
 * Hello mode: our ClientHello for `version`, then the server's first records, then we hang up.
 * We do no key exchange; the server does what its first flight needs (our <=1.2 hellos put plain
 * RSA first, so usually no signature). For TLS 1.0-1.2 the reader goes on to the Certificate
 * message of the same flight (in clear there, RFC 5246 7.4.2), which costs no extra round trip.
 */
function helloExchange(version: TlsVersion, socket: Socket, run: EndpointRun): Promise<AttemptResult> {
  return new Promise<AttemptResult>((resolve) => {
    const readCertificate = version !== "TLSv1.3";
    const reader = new FirstFlightReader(readCertificate ? CERTIFICATE_FLIGHT_CAP : DEFAULT_FIRST_FLIGHT_CAP, readCertificate);
    let done = false;
    const finish = (result: AttemptResult, politely: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      socket.off("error", onError);
      resolve(result);
      if (!politely || socket.destroyed) {
        socket.destroy();
        return;
      }
      // Our FIN, then whatever the server still sends is drained until it closes its side: the
      // per-address slot is freed on "close", so the server never sees a third connection (see
      // handshake()). A server that never closes is cut off after a second.
      socket.resume();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const judged = (flight: FirstFlight, politely: boolean) => finish(helloResult(version, flight), politely);
    // A ServerHello that came before the flight was cut short still answers for the version.
    const cutShort = (why: string) => {
      const flight = reader.cutShort(why);
      if (flight) judged(flight, false);
      return flight !== null;
    };
    const hungUp = (reason: "closed" | "reset") => {
      if (run.stop.signal.aborted) return finish({ kind: "version", outcome: "unknown", reason: run.stopReason() }, false);
      if (cutShort(`connection ${reason}`)) return;
      // A partial record before the close is an answer we could not read, not silence.
      finish({ kind: "version", outcome: "unknown", reason, silentClose: reader.bytesReceived === 0 }, false);
    };
    const onData = (chunk: Buffer) => {
      const flight = reader.push(chunk);
      if (flight) judged(flight, true);
    };
    const onEnd = () => hungUp("closed");
    const onClose = () => hungUp("closed");
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return hungUp("reset");
      finish({ kind: "version", outcome: "unknown", reason: errorText(error).toLowerCase() }, false);
    };
    const timer = setTimeout(() => cutShort("timeout") || finish({ kind: "version", outcome: "unknown", reason: "timeout" }, false), run.timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onClose);
    socket.once("error", onError);
    // The STARTTLS dialog left the socket paused; a "data" listener alone does not undo pause().
    socket.resume();
    socket.write(buildClientHello(version, { servername: run.servername }));
  });
}

function helloResult(version: TlsVersion, flight: FirstFlight): AttemptResult {
  const { outcome, reason, cipher, certificate, downgradeSentinel } = judgeFirstFlight(version, flight);
  const result: AttemptResult = { kind: "version", outcome, reason };
  if (cipher !== undefined) result.cipher = cipher;
  // A ServerHello we could read, for our version or another, is the server speaking TLS here.
  if (flight.kind === "server-hello" && outcome !== "unknown") result.serverHelloRead = true;
  // Absent when the flight could not give it: then the schedule asks a full handshake.
  if (certificate !== undefined) result.certificate = certificate;
  if (version === "TLSv1.2" && downgradeSentinel === "TLSv1.3") result.tls13Sentinel = true;
  return result;
}

/** Runs `start` and waits for `event` on `emitter`; rejects on error, close or timeout. */
function settle(emitter: Socket, event: string, timeoutMs: number, start: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      emitter.off("error", onError);
      emitter.off("close", onClose);
    };
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      emitter.destroy();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error("closed"), { code: "ECLOSED" }));
    };
    const timer = setTimeout(() => {
      cleanup();
      emitter.destroy();
      reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    emitter.once(event, onEvent);
    emitter.once("error", onError);
    emitter.once("close", onClose);
    start();
  });
}

function connectFailureText(error: unknown, timeoutMs: number): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "";
  switch (code) {
    case "ETIMEDOUT":
      return `no TCP connection within ${timeoutMs} ms`;
    case "ECONNREFUSED":
      return "connection refused";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      return `connect failed: ${errorText(error)}`;
  }
}

let cachedHeloName: string | undefined;
function defaultHeloName(): string {
  // EHLO wants a domain (RFC 5321 4.1.1.1); a host name with odd characters would get a 501.
  cachedHeloName ??= /^[a-z0-9.-]+$/i.test(hostname()) ? hostname() : "tlsfleet.invalid";
  return cachedHeloName;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return "code" in error && error.code ? String(error.code) : error.message;
  return String(error);
}

function ignore(): void {}
