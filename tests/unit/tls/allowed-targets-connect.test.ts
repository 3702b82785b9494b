// Allowed targets at connect time (issue 9), through the prober, SSH and WinRM, with real sockets
// on loopback. Every forbidden target here is loopback (127.0.0.1, ::1) or a lab address
// (198.18.5.77); nothing else is ever put on the wire. The "allowed" servers listen on 127.0.0.2,
// which the allow-list names explicitly; "recorders" on 127.0.0.1 (and ::1) on the same port count
// every connection that reaches them, so "nothing connected to the forbidden address" is measured,
// not assumed.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSshSession } from "../../../agents/transport/ssh";
import { TransportError } from "../../../agents/transport/types";
import { openWinRmSession } from "../../../agents/transport/winrm";
import { parseAllowList } from "../../../lib/tls/allowlist";
import type { Resolver } from "../../../lib/tls/connect-target";
import { probeEndpoint } from "../../../lib/tls/probe";

interface Recorder {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

function record(address: string, port: number): Promise<Recorder> {
  return new Promise((resolve, reject) => {
    let connections = 0;
    // Accept and hang up at once: each client fails fast, and the count is what matters.
    const server = net.createServer((socket) => {
      connections++;
      socket.on("error", () => undefined);
      socket.destroy();
    });
    server.once("error", reject);
    server.listen(port, address, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        get connections() {
          return connections;
        },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** An allowed server on 127.0.0.2 and recorders on 127.0.0.1 and ::1, all on one port number. */
async function listeners(): Promise<{ port: number; allowed: Recorder; forbidden: Recorder[]; close(): Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const allowed = await record("127.0.0.2", 0);
    try {
      const forbidden = [await record("127.0.0.1", allowed.port), await record("::1", allowed.port)];
      return { port: allowed.port, allowed, forbidden, close: async () => void (await Promise.all([allowed.close(), ...forbidden.map((f) => f.close())])) };
    } catch (e) {
      await allowed.close();
      if (attempt > 5) throw e;
    }
  }
}

// The names an attacker with an operator account would use: under the allowed suffix, pointing
// elsewhere. Only 198.18.0.0/24 of the lab and 127.0.0.2 (the test server) are allowed.
const ALLOW = parseAllowList("allowed.example, 198.18.0.0/24, 127.0.0.2/32");

function fixed(...addresses: string[]): Resolver & { calls: number } {
  const r = Object.assign(async () => {
    r.calls++;
    return addresses;
  }, { calls: 0 });
  return r;
}

/** First an allowed address, then loopback: a DNS-rebinding attacker's resolver. */
function rebinding(): Resolver & { calls: number } {
  const r = Object.assign(async () => {
    r.calls++;
    return r.calls === 1 ? ["127.0.0.2"] : ["127.0.0.1"];
  }, { calls: 0 });
  return r;
}

let l: Awaited<ReturnType<typeof listeners>>;
beforeAll(async () => {
  l = await listeners();
});
afterAll(async () => {
  await l.close();
});
const forbiddenConnections = () => l.forbidden.reduce((n, f) => n + f.connections, 0);

type Attempt = (host: string, resolver?: Resolver) => Promise<{ refused: boolean; message: string }>;

const viaProbe: Attempt = async (host, resolver) => {
  const report = await probeEndpoint({ host, port: l.port, service: "https" }, { allowList: ALLOW, resolver, timeoutMs: 2_000, deadlineMs: 5_000, retryUnknown: false });
  return { refused: Object.values(report.reasons).every((r) => r === "not allowed"), message: report.error ?? "" };
};

const viaSsh: Attempt = async (host, resolver) => {
  const err = await openSshSession({ host, port: l.port, credential: { kind: "ssh-password", username: "root", password: "never-sent" }, allowList: ALLOW, resolver, connectTimeoutMs: 3_000 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError); // the recorder is no sshd
  return { refused: (err as TransportError).code === "config", message: (err as Error).message };
};

const viaWinRm: Attempt = async (host, resolver) => {
  const err = await openWinRmSession({ host, port: l.port, transport: "http", auth: { kind: "ntlm", username: "u", password: "never-sent" }, allowList: ALLOW, resolver, connectTimeoutMs: 3_000 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError); // the recorder is no WinRM listener
  return { refused: (err as TransportError).code === "config", message: (err as Error).message };
};

describe.each([
  ["the prober", viaProbe],
  ["SSH", viaSsh],
  ["WinRM", viaWinRm],
])("allowed targets through %s", (_name, attempt) => {
  it("refuses a name under the allowed suffix that resolves to loopback, and nothing reaches it", async () => {
    const before = forbiddenConnections();
    const resolver = fixed("127.0.0.1");
    const result = await attempt("x.allowed.example", resolver);
    expect(result.refused).toBe(true);
    expect(forbiddenConnections()).toBe(before);
    expect(resolver.calls).toBe(1);
  });

  it("refuses a name under the allowed suffix that resolves to a lab address outside the allowed ranges", async () => {
    const result = await attempt("x.allowed.example", fixed("198.18.5.77"));
    expect(result.refused).toBe(true);
    expect(result.message).not.toMatch(/timed? ?out|ETIMEDOUT|ECONNREFUSED|EHOSTUNREACH/i);
  });

  it("refuses when any one of the addresses is forbidden", async () => {
    const before = { allowed: l.allowed.connections, forbidden: forbiddenConnections() };
    const result = await attempt("x.allowed.example", fixed("127.0.0.2", "127.0.0.1"));
    expect(result.refused).toBe(true);
    expect({ allowed: l.allowed.connections, forbidden: forbiddenConnections() }).toEqual(before);
  });

  it("refuses 'localhost' under a 'localhost' suffix as the system resolves it (127.0.0.1 / ::1)", async () => {
    const before = forbiddenConnections();
    const localhostSuffix = parseAllowList("localhost, 127.0.0.2/32");
    const result =
      attempt === viaProbe
        ? await probeEndpoint({ host: "localhost", port: l.port, service: "https" }, { allowList: localhostSuffix, timeoutMs: 2_000, retryUnknown: false }).then((r) => ({
            refused: Object.values(r.reasons).every((x) => x === "not allowed"),
          }))
        : attempt === viaSsh
          ? await openSshSession({ host: "localhost", port: l.port, credential: { kind: "ssh-password", username: "root", password: "x" }, allowList: localhostSuffix, connectTimeoutMs: 3_000 }).then(
              () => ({ refused: false }),
              (e: TransportError) => ({ refused: e.code === "config" }),
            )
          : await openWinRmSession({ host: "localhost", port: l.port, transport: "http", auth: { kind: "ntlm", username: "u", password: "x" }, allowList: localhostSuffix, connectTimeoutMs: 3_000 }).then(
              () => ({ refused: false }),
              (e: TransportError) => ({ refused: e.code === "config" }),
            );
    expect(result.refused).toBe(true);
    expect(forbiddenConnections()).toBe(before);
  });

  it("connects to the address it checked, not to what the name resolves to next (DNS rebinding)", async () => {
    const before = { allowed: l.allowed.connections, forbidden: forbiddenConnections() };
    const resolver = rebinding();
    const result = await attempt("x.allowed.example", resolver);
    expect(result.refused).toBe(false);
    expect(resolver.calls).toBe(1);
    expect(l.allowed.connections).toBeGreaterThan(before.allowed);
    expect(forbiddenConnections()).toBe(before.forbidden);
  });
});
