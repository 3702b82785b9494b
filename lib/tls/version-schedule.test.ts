import { describe, expect, it } from "vitest";
import { TryLater } from "./try-later";
import type { CertificateSummary, TlsVersion } from "./types";
import { TLS13_FROM_SENTINEL, VersionSchedule, type AttemptKind, type AttemptResult, type VersionScheduleOptions } from "./version-schedule";

type Script = (version: TlsVersion, kind: AttemptKind, nth: number) => AttemptResult | Promise<AttemptResult>;

const CERTIFICATE = { subject: "CN=lab" } as unknown as CertificateSummary;
const accepted = (extra: Partial<Extract<AttemptResult, { kind: "version" }>> = {}): AttemptResult => ({ kind: "version", outcome: "accepted", reason: null, ...extra });
const rejected = (reason = "protocol_version alert"): AttemptResult => ({ kind: "version", outcome: "rejected", reason });
const unknown = (reason = "timeout"): AttemptResult => ({ kind: "version", outcome: "unknown", reason });
/**
 * What an OpenSSL server that takes every version answers: a <=1.2 hello's flight carries the
 * certificate, and the 1.2 one the downgrade sentinel; a full handshake runs to the end.
 */
const everything: Script = (version, kind) => {
  if (kind !== "hello") return accepted({ completed: true, cipher: "TLS_AES_128_GCM_SHA256", certificate: CERTIFICATE });
  if (version === "TLSv1.3") return accepted({ serverHelloRead: true, cipher: "TLS_AES_256_GCM_SHA384" });
  return accepted({ serverHelloRead: true, cipher: "AES128-SHA", certificate: CERTIFICATE, tls13Sentinel: version === "TLSv1.2" });
};
/** The same server behind something that strips the sentinel (or a 1.3 server that does not set it). */
const noSentinel: Script = (version, kind, nth) => {
  const result = everything(version, kind, nth) as Extract<AttemptResult, { kind: "version" }>;
  return { ...result, tls13Sentinel: undefined };
};

/** A schedule over a scripted endpoint; `calls` lists "kind version" in the order they were made. */
function scheduled(script: Script, options: Partial<VersionScheduleOptions> = {}) {
  const calls: string[] = [];
  const waits: number[] = [];
  const stop = new AbortController();
  let concluded = 0;
  const schedule = new VersionSchedule({
    mode: "hello",
    retryUnknown: true,
    perHost: 1,
    signal: stop.signal,
    attempt: async (version, kind) => {
      calls.push(`${kind} ${version}`);
      return script(version, kind, calls.length);
    },
    isReachable: () => true,
    conclude: () => {
      concluded++;
      stop.abort(new Error("concluded"));
    },
    tryLater: new TryLater(10_000, 250, 4_000, () => 0),
    waitBeforeRetry: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  return { run: () => schedule.run(), calls, waits, stop, concluded: () => concluded };
}

describe("VersionSchedule: which connection comes next", () => {
  it("hello mode: TLS 1.2 first; its downgrade sentinel settles 1.3 and its flight the certificate: 3 connections, none finished", async () => {
    const s = scheduled(everything);
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1", "hello TLSv1.1"]);
    expect(found.certificate).toBe(CERTIFICATE);
    expect(found.outcomes.get("TLSv1.3")).toEqual({ outcome: "accepted", reason: TLS13_FROM_SENTINEL });
    expect(found.cipher).toEqual({ "TLSv1.2": "AES128-SHA", TLSv1: "AES128-SHA", "TLSv1.1": "AES128-SHA" });
    expect([...found.handshakeCompleted].sort()).toEqual(["TLSv1", "TLSv1.1", "TLSv1.2"]);
    expect(found.conclusion).toBeNull();
  });

  it("hello mode without the sentinel: a TLS 1.3 hello asks, right after 1.2 and before the legacy versions", async () => {
    const s = scheduled(noSentinel);
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1.3", "hello TLSv1", "hello TLSv1.1"]);
    expect(found.outcomes.get("TLSv1.3")).toEqual({ outcome: "accepted", reason: null, silentClose: undefined });
    expect(found.cipher["TLSv1.3"]).toBe("TLS_AES_256_GCM_SHA384");
  });

  it("the missing sentinel never rejects TLS 1.3: only the 1.3 hello's own answer does", async () => {
    const silent = scheduled((version, kind, nth) => (version === "TLSv1.3" ? unknown("timeout") : noSentinel(version, kind, nth)));
    expect((await silent.run()).outcomes.get("TLSv1.3")).toEqual({ outcome: "unknown", reason: "timeout", silentClose: undefined });
    expect(silent.calls.filter((c) => c.endsWith("TLSv1.3"))).toEqual(["hello TLSv1.3", "hello TLSv1.3"]);
    const refusing = scheduled((version, kind, nth) => (version === "TLSv1.3" ? rejected("protocol_version") : noSentinel(version, kind, nth)));
    expect((await refusing.run()).outcomes.get("TLSv1.3")).toEqual({ outcome: "rejected", reason: "protocol_version", silentClose: undefined });
  });

  it("a TLS 1.2 answer without a sentinel after an unknown first one: the 1.3 hello was already queued, and stands", async () => {
    const s = scheduled((version, kind, nth) => (version === "TLSv1.2" && nth === 1 ? unknown("reset") : everything(version, kind, nth)));
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1.3", "hello TLSv1", "hello TLSv1.1", "hello TLSv1.2"]);
    expect(found.outcomes.get("TLSv1.3")?.outcome).toBe("accepted");
  });

  it("a TLS 1.3-only server: the certificate from one full handshake at 1.3", async () => {
    const s = scheduled((version, kind, nth) => (version === "TLSv1.3" ? everything(version, kind, nth) : rejected()));
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1.3", "hello TLSv1", "hello TLSv1.1", "certificate TLSv1.3"]);
    expect(found.certificate).toBe(CERTIFICATE);
    expect(found.cipher).toEqual({ "TLSv1.3": "TLS_AES_128_GCM_SHA256" });
  });

  it("full mode: every version by a full handshake, and no separate certificate handshake", async () => {
    const s = scheduled(everything, { mode: "full" });
    const found = await s.run();
    expect(s.calls).toEqual(["full TLSv1.2", "full TLSv1.3", "full TLSv1", "full TLSv1.1"]);
    expect(found.outcomes.get("TLSv1")?.outcome).toBe("accepted");
  });

  it("a flight whose certificate could not be read: one full handshake at the highest accepted version, once every version is settled; it never changes the version's outcome", async () => {
    const s = scheduled((version, kind) => {
      if (kind === "certificate") return accepted({ completed: true, cipher: "ECDHE-RSA-AES128-GCM-SHA256", certificate: CERTIFICATE });
      return version === "TLSv1.2" ? accepted() : rejected();
    });
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1.3", "hello TLSv1", "hello TLSv1.1", "certificate TLSv1.2"]);
    expect(found.certificate).toBe(CERTIFICATE);
    expect(found.cipher).toEqual({ "TLSv1.2": "ECDHE-RSA-AES128-GCM-SHA256" });
    expect(found.outcomes.get("TLSv1.2")).toEqual({ outcome: "accepted", reason: null, silentClose: undefined });
    expect(found.outcomes.get("TLSv1.3")?.outcome).toBe("rejected");
  });

  it("a certificate handshake that fails is tried once more, one version down, and says nothing about the version", async () => {
    const s = scheduled((version, kind) => (kind === "certificate" ? rejected("negotiated TLSv1.1") : version === "TLSv1.3" ? rejected() : accepted()));
    const found = await s.run();
    expect(s.calls.filter((c) => c.startsWith("certificate"))).toEqual(["certificate TLSv1.2", "certificate TLSv1.1"]);
    expect(found.outcomes.get("TLSv1.2")?.outcome).toBe("accepted");
    expect(found.certificate).toBeNull();
  });

  it("an unknown version gets one retry (a hello in hello mode, queued last) and then stays unknown", async () => {
    const s = scheduled((version, kind) => (version === "TLSv1" ? unknown("reset") : everything(version, kind, 0)));
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1", "hello TLSv1.1", "hello TLSv1"]);
    expect(found.outcomes.get("TLSv1")).toEqual({ outcome: "unknown", reason: "reset", silentClose: undefined });
  });

  it("retryUnknown false: an unknown version is asked once", async () => {
    const s = scheduled((version, kind) => (version === "TLSv1" ? unknown() : everything(version, kind, 0)), { retryUnknown: false });
    await s.run();
    expect(s.calls.filter((c) => c.endsWith(" TLSv1"))).toEqual(["hello TLSv1"]);
  });

  it("full mode retries an unknown version with a full handshake", async () => {
    const s = scheduled((version, kind) => (version === "TLSv1.1" ? unknown() : everything(version, kind, 0)), { mode: "full" });
    await s.run();
    expect(s.calls.slice(-1)).toEqual(["full TLSv1.1"]);
  });
});

describe("VersionSchedule: results that decide the endpoint", () => {
  it("STARTTLS not offered decides every version: the endpoint stops after that one connection", async () => {
    const notOffered: AttemptResult = { kind: "not-offered", reason: "STARTTLS not offered", message: "no STARTTLS in the EHLO reply" };
    const s = scheduled(() => notOffered);
    const found = await s.run();
    expect(s.calls).toEqual(["hello TLSv1.2"]);
    expect(found.conclusion).toBe(notOffered);
    expect(s.concluded()).toBe(1);
    expect(found.outcomes.size).toBe(0);
  });

  it("no connection while none got through ends the endpoint as unreachable", async () => {
    const down: AttemptResult = { kind: "unreachable", reason: "connection refused", message: "connection refused" };
    const s = scheduled(() => down, { isReachable: () => false });
    const found = await s.run();
    expect(found.conclusion).toBe(down);
    expect(s.calls).toEqual(["hello TLSv1.2"]);
  });

  it("no connection after another got through is only that version's unknown, and it is retried", async () => {
    const s = scheduled((version, kind, nth) => (version === "TLSv1" && nth === 2 ? { kind: "unreachable", reason: "no greeting", message: "no greeting" } : everything(version, kind, nth)));
    const found = await s.run();
    expect(found.conclusion).toBeNull();
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1", "hello TLSv1.1", "hello TLSv1"]);
    expect(found.outcomes.get("TLSv1")?.outcome).toBe("accepted");
  });
});

describe("VersionSchedule: try again later", () => {
  it("a temporary refusal is not an answer: the same connection again after a growing pause, before anything else", async () => {
    const s = scheduled((version, kind, nth) => (nth <= 2 ? { ...unknown("try again later (421)"), tryLater: true } : everything(version, kind, nth)));
    const found = await s.run();
    expect(s.waits).toEqual([250, 500]);
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1.2", "hello TLSv1.2", "hello TLSv1", "hello TLSv1.1"]);
    expect(found.outcomes.get("TLSv1.2")?.outcome).toBe("accepted");
  });

  it("once the window is spent the refusal counts as the version's unknown (with its one retry)", async () => {
    const refused = { ...unknown("try again later (421)"), tryLater: true };
    const s = scheduled((version, kind) => (version === "TLSv1.2" ? refused : everything(version, kind, 0)), { tryLater: new TryLater(300, 250, 4_000, () => 0) });
    const found = await s.run();
    expect(s.waits).toEqual([250]);
    expect(s.calls.filter((c) => c.endsWith("TLSv1.2"))).toEqual(["hello TLSv1.2", "hello TLSv1.2", "hello TLSv1.2"]);
    expect(found.outcomes.get("TLSv1.2")).toEqual({ outcome: "unknown", reason: "try again later (421)", silentClose: undefined });
  });
});

describe("VersionSchedule: lanes and stopping", () => {
  async function concurrency(perHost: number): Promise<number> {
    let open = 0;
    let most = 0;
    const s = scheduled(
      async (version, kind) => {
        most = Math.max(most, ++open);
        await new Promise((resolve) => setTimeout(resolve, 5));
        open--;
        return everything(version, kind, 0);
      },
      { perHost },
    );
    await s.run();
    return most;
  }

  it("runs at most perHost connections at once, and never more than the connections there are", async () => {
    expect(await concurrency(1)).toBe(1);
    expect(await concurrency(2)).toBe(2);
    // Hello mode against a server with the sentinel: three hellos in all.
    expect(await concurrency(16)).toBe(3);
  });

  it("after a stop no connection starts; a result that arrived complete counts, one cut short does not", async () => {
    const s = scheduled(
      async (version) => {
        if (version === "TLSv1.2") return accepted();
        // TLS 1.3 and TLS 1.0 are in flight when the endpoint is stopped (its deadline, say).
        await new Promise((resolve) => setTimeout(resolve, 5));
        return version === "TLSv1.3" ? unknown("deadline") : accepted();
      },
      { perHost: 2 },
    );
    const running = s.run();
    await new Promise((resolve) => setTimeout(resolve, 1));
    s.stop.abort(new Error("deadline"));
    const found = await running;
    expect(s.calls).toEqual(["hello TLSv1.2", "hello TLSv1", "hello TLSv1.3"]);
    // TLS 1.0's hello was answered; TLS 1.3's was cut short by the stop.
    expect([...found.outcomes.keys()].sort()).toEqual(["TLSv1", "TLSv1.2"]);
  });
});
