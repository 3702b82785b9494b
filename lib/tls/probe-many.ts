import { setMaxListeners } from "node:events";
import { ConnectionGate, sharedConnectionGate } from "./connection-gate";
import { probeEndpoint, NOT_TESTABLE, type ProbeOptions } from "./probe";
import { serviceForPort } from "./services";
import { formatTarget } from "./targets";
import { TLS_VERSIONS, type ProbeReport, type ProbeTarget } from "./types";

export interface ProbeManyOptions extends ProbeOptions {
  /** Endpoints probed at the same time. Default 32. */
  concurrency?: number;
  /**
   * Simultaneous connections to one address. Default 2 (docs/domain.md "Probing what a server really negotiates"). Ignored when
   * `connectionGate` is given; a value other than the shared gate's gives this run a gate of
   * its own, which then no longer coordinates with other probes in the process.
   */
  perHostLimit?: number;
  /**
   * "input" (default): reports come in the order of `targets`, each as soon as it and all before
   * it are done. "completion": each report as soon as it is done. Either way at most
   * `reorderWindow` targets are read ahead of the oldest report not yet yielded, so memory stays
   * bounded whatever the input size; within that window endpoints on addresses with nothing in
   * flight are started first.
   */
  order?: "input" | "completion";
  /** Default: 8 x concurrency, at least 64. */
  reorderWindow?: number;
}

export const DEFAULT_CONCURRENCY = 32;

/**
 * Probes many endpoints with bounded concurrency and yields one report per target. Stopping the
 * iteration early (break) cancels the probes still running.
 */
export async function* probeMany(
  targets: Iterable<ProbeTarget> | AsyncIterable<ProbeTarget>,
  options: ProbeManyOptions = {},
): AsyncGenerator<ProbeReport, void, undefined> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const order = options.order ?? "input";
  const window = Math.max(1, Math.floor(options.reorderWindow ?? Math.max(concurrency * 8, 64)));
  const gate = options.connectionGate ?? gateFor(options.perHostLimit);

  const cancel = new AbortController();
  // Every running endpoint listens on this one signal: hundreds of listeners are expected here.
  setMaxListeners(0, cancel.signal);
  const onOuterAbort = () => cancel.abort(options.signal?.reason);
  if (options.signal?.aborted) cancel.abort(options.signal.reason);
  else options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const probeOptions: ProbeOptions = { ...options, connectionGate: gate, signal: cancel.signal };

  const source = Symbol.asyncIterator in targets ? targets[Symbol.asyncIterator]() : toAsync(targets[Symbol.iterator]());
  // Read ahead of what runs, so the next endpoint started can be one on an address with nothing
  // in flight: with 2 connections allowed per address, spreading over addresses doubles the
  // connections at work for the same concurrency when a fleet lists several ports per host.
  const waiting: { target: ProbeTarget; index: number }[] = [];
  const endpointsRunningOn = new Map<string, number>();
  const finishedByIndex = new Map<number, ProbeReport>();
  const finishedInCompletionOrder: ProbeReport[] = [];
  let read = 0;
  let emitted = 0;
  let running = 0;
  let exhausted = false;
  let wake: (() => void) | null = null;

  const launch = ({ target, index }: { target: ProbeTarget; index: number }) => {
    const host = hostKey(target);
    running++;
    endpointsRunningOn.set(host, (endpointsRunningOn.get(host) ?? 0) + 1);
    probeEndpoint(target, probeOptions)
      .catch((error: unknown) => crashReport(target, error))
      .then((report) => {
        running--;
        const left = (endpointsRunningOn.get(host) ?? 1) - 1;
        if (left === 0) endpointsRunningOn.delete(host);
        else endpointsRunningOn.set(host, left);
        if (order === "input") finishedByIndex.set(index, report);
        else finishedInCompletionOrder.push(report);
        wake?.();
      });
  };

  try {
    for (;;) {
      while (!exhausted && read - emitted < window) {
        const next = await source.next();
        if (next.done) exhausted = true;
        else waiting.push({ target: next.value, index: read++ });
      }
      while (running < concurrency && waiting.length > 0) {
        const idle = waiting.findIndex((w) => !endpointsRunningOn.has(hostKey(w.target)));
        launch(waiting.splice(Math.max(idle, 0), 1)[0]!);
      }
      let progressed = false;
      if (order === "input") {
        for (let report = finishedByIndex.get(emitted); report; report = finishedByIndex.get(emitted)) {
          finishedByIndex.delete(emitted++);
          progressed = true;
          yield report;
        }
      } else {
        for (let report = finishedInCompletionOrder.shift(); report; report = finishedInCompletionOrder.shift()) {
          emitted++;
          progressed = true;
          yield report;
        }
      }
      if (exhausted && running === 0 && waiting.length === 0 && emitted === read) return;
      if (!progressed) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
  } finally {
    cancel.abort(new Error("cancelled"));
    options.signal?.removeEventListener("abort", onOuterAbort);
    await source.return?.();
  }
}

function hostKey(target: ProbeTarget): string {
  return target.host.toLowerCase();
}

function gateFor(perHostLimit: number | undefined): ConnectionGate {
  if (perHostLimit === undefined || perHostLimit === sharedConnectionGate.perHost) return sharedConnectionGate;
  return new ConnectionGate(Math.max(1, Math.floor(perHostLimit)), sharedConnectionGate.maxTotal);
}

async function* toAsync<T>(iterator: Iterator<T>): AsyncIterator<T> {
  for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
}

// probeEndpoint does not throw by design; this only keeps one broken target from ending the run.
function crashReport(target: ProbeTarget, error: unknown): ProbeReport {
  const reasons = Object.fromEntries(TLS_VERSIONS.map((v) => [v, "internal error"])) as ProbeReport["reasons"];
  const protocols = Object.fromEntries(TLS_VERSIONS.map((v) => [v, "unknown"])) as ProbeReport["protocols"];
  return {
    target: formatTarget(target.host, target.port),
    service: target.service ?? serviceForPort(target.port),
    starttls: "not-applicable",
    protocols,
    reasons,
    notTested: [...NOT_TESTABLE],
    verdict: "error",
    cipher: {},
    certificate: null,
    error: `internal error: ${error instanceof Error ? error.message : String(error)}`,
    durationMs: 0,
    address: null,
  };
}
