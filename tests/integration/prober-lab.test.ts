// The prober against every real server of the lab fleet, cross-checked with Debian's sslscan in
// the same test: both must see the same accepted/rejected per TLS version wherever sslscan can
// answer, and the prober must reach the verdict the lab was built to produce.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { probeEndpoint } from "../../lib/tls";
import type { ProbeMode } from "../../lib/tls/probe";
import type { Outcome, ProbeReport, Service, TlsVersion } from "../../lib/tls/types";
import { TLS13_FROM_SENTINEL } from "../../lib/tls/version-schedule";
import { ensureLabUp, labEndpoints, type LabEndpoint, type LabHost } from "../lab/fleet";

const run = promisify(execFile);
const VERSIONS: readonly TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

// Brings the lab up when it is not (test-all does it first); fails the file with the lab's own
// message when it cannot, so no endpoint is ever skipped without a trace.
const fleet = ensureLabUp();
const endpoints = labEndpoints(fleet);

// sslscan's own STARTTLS dialogs; implicit-TLS services need none.
const SSLSCAN_STARTTLS: Partial<Record<Service, string>> = {
  smtp: "--starttls-smtp",
  submission: "--starttls-smtp",
  imap: "--starttls-imap",
  pop3: "--starttls-pop3",
};
const SSLSCAN_VERSION: Record<string, TlsVersion> = { "1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3" };

type SslscanResult =
  | { answered: true; protocols: Partial<Record<TlsVersion, Exclude<Outcome, "unknown">>> }
  | { answered: false; error: string };

/**
 * sslscan 2.0.7 (Debian 12, OpenSSL 3.0) limited to protocol detection. It prints
 * `<protocol type="tls" version="1.0" enabled="1" />` per version, and `<error>` (still exit 0)
 * when it cannot reach or start TLS. It counts a close without a reply as "not enabled", where
 * tlsfleet says "unknown": the comparison below only trusts it on endpoints that really answer.
 */
async function sslscan(address: string, port: number, service: Service): Promise<SslscanResult> {
  const starttls = SSLSCAN_STARTTLS[service];
  const args = [
    "--no-colour", "--xml=-", "--no-ciphersuites", "--no-renegotiation", "--no-compression",
    "--no-heartbleed", "--no-groups", "--no-fallback", "--no-check-certificate", "--timeout=5",
    ...(starttls ? [starttls] : []),
    `${address}:${port}`,
  ];
  let stdout: string;
  try {
    ({ stdout } = await run("sslscan", args, { timeout: 60_000, maxBuffer: 4 << 20 }));
  } catch (err) {
    // Against some misbehaving peers sslscan itself dies (a reset mid-dialog): no answer, then.
    const failed = err as { stdout?: string; code?: number | string; signal?: string };
    stdout = failed.stdout ?? "";
    if (!/<protocol type="tls"/.test(stdout)) return { answered: false, error: `sslscan exited ${failed.code ?? failed.signal}` };
  }
  const error = /<error><!\[CDATA\[([\s\S]*?)\]\]><\/error>/.exec(stdout)?.[1];
  const protocols: Partial<Record<TlsVersion, "accepted" | "rejected">> = {};
  for (const m of stdout.matchAll(/<protocol type="tls" version="([0-9.]+)" enabled="([01])"/g)) {
    const version = SSLSCAN_VERSION[m[1]!];
    if (version) protocols[version] = m[2] === "1" ? "accepted" : "rejected";
  }
  if (Object.keys(protocols).length === 0) return { answered: false, error: error ?? `no protocol lines in sslscan output: ${stdout.slice(0, 300)}` };
  return { answered: true, protocols };
}

// One sslscan run per endpoint, shared by both probing modes.
const sslscanRuns = new Map<string, Promise<SslscanResult>>();
function sslscanOnce(address: string, port: number, service: Service): Promise<SslscanResult> {
  const key = `${address}:${port}`;
  if (!sslscanRuns.has(key)) sslscanRuns.set(key, sslscan(address, port, service));
  return sslscanRuns.get(key)!;
}

function describeEndpoint(host: LabHost, endpoint: LabEndpoint): string {
  const want = VERSIONS.map((v) => `${v} ${endpoint.expected[v]}`).join(", ");
  return `${endpoint.port}/${endpoint.service} on ${host.name} (${host.address}) is ${endpoint.expectedVerdict}: ${want}`;
}

function outcomes(report: ProbeReport): Record<TlsVersion, Outcome> {
  return Object.fromEntries(VERSIONS.map((v) => [v, report.protocols[v]])) as Record<TlsVersion, Outcome>;
}

it("the lab has an endpoint for every verdict the prober can reach on a working server", () => {
  const verdicts = new Set(endpoints.map((e) => e.endpoint.expectedVerdict));
  for (const v of ["compliant", "noncompliant", "at_risk", "no-tls"] as const) expect(verdicts, `a lab endpoint expected ${v}`).toContain(v);
  const services = new Set(endpoints.map((e) => e.endpoint.service));
  for (const s of ["smtp", "submission", "https", "imap", "imaps", "pop3", "pop3s"] as const) expect(services, `a lab endpoint for ${s}`).toContain(s);
});

// Both modes must agree with sslscan everywhere: "hello" is the default only because it does.
describe.each<ProbeMode>(["hello", "full"])("prober in %s mode against the lab fleet, cross-checked with sslscan", (mode) => {
  for (const { host, endpoint } of endpoints) {
    it(describeEndpoint(host, endpoint), async () => {
      // A host that allows few sessions per client would refuse sslscan while the prober holds
      // its share: there the two take turns.
      const probe = () => probeEndpoint({ host: host.address, port: endpoint.port, service: endpoint.service }, { mode });
      const [report, scan] =
        host.clientConnectionLimit === null
          ? await Promise.all([probe(), sslscanOnce(host.address, endpoint.port, endpoint.service)])
          : await sslscanOnce(host.address, endpoint.port, endpoint.service).then(async (scan) => [await probe(), scan] as const);
      const context = `prober: ${JSON.stringify({ protocols: report.protocols, reasons: report.reasons, starttls: report.starttls, error: report.error })}; sslscan: ${JSON.stringify(scan)}`;

      expect(report.target, context).toBe(`${host.address}:${endpoint.port}`);
      expect(report.service, context).toBe(endpoint.service);
      if (endpoint.starttls !== null) expect(report.starttls, context).toBe(endpoint.starttls);
      expect(outcomes(report), context).toEqual(endpoint.expected);
      expect(report.verdict, context).toBe(endpoint.expectedVerdict);

      const handshakes = VERSIONS.some((v) => endpoint.expected[v] !== "unknown");
      if (handshakes) {
        // A real server that negotiates: sslscan must answer, and agree version by version. The
        // peers built to trip naive clients (a greeting that punishes early talkers) may defeat
        // sslscan; there it is compared only when it answers, and the prober still must be right.
        if (host.kind === "server") expect(scan.answered, `sslscan gave no answer for a working TLS endpoint: ${context}`).toBe(true);
        if (scan.answered) {
          const compared = VERSIONS.filter((v) => scan.protocols[v] !== undefined);
          expect(compared.length, `sslscan answered for no TLS version: ${context}`).toBeGreaterThan(0);
          for (const v of compared) expect(`${v} ${report.protocols[v]}`, context).toBe(`${v} ${scan.protocols[v]}`);
        }
        if (host.kind === "server") expect(report.certificate?.subject ?? "", context).toContain(`${host.name}.lab.tlsfleet.test`);
        for (const v of VERSIONS) {
          // TLS 1.3 proven by the 1.2 ServerHello's downgrade sentinel had no 1.3 connection: no cipher to show.
          if (endpoint.expected[v] === "accepted" && report.reasons[v] !== TLS13_FROM_SENTINEL) expect(report.cipher[v], `negotiated cipher for ${v}: ${context}`).toBeTruthy();
        }
      } else {
        // No handshake is possible (no STARTTLS, misbehaving peer): the prober must not invent a
        // result, and sslscan, which calls a silent close "not enabled", must at least not claim
        // anything was accepted.
        for (const v of VERSIONS) expect(report.protocols[v], context).toBe("unknown");
        if (scan.answered) for (const v of VERSIONS) expect(scan.protocols[v] ?? "rejected", context).not.toBe("accepted");
      }
    });
  }
});
