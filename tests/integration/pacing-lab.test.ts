// A real Postfix that allows the prober 2 sessions at once over all three addresses it answers on
// (lab host mx-limited: smtpd_client_connection_count_limit = 2). Probing all three addresses at
// once, 2 connections per address, would be 6 sessions: Postfix greets the third with
// "421 4.7.0 ... too many connections". The prober must learn from the greeting that the three
// addresses are one server, learn its budget from the refusal, and still return a complete
// matrix for every address, run after run.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { ConnectionGate, probeEndpoint } from "../../lib/tls";
import type { ProbeMode } from "../../lib/tls/probe";
import { ensureLabUp } from "../lab/fleet";

const fleet = ensureLabUp();
const host = fleet.hosts.find((h) => h.name === "mx-limited");
const ALL = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };

/** Postfix's own count of sessions it refused for the limit (smtpd logs each one). */
function refusalsLogged(): number {
  const log = host?.config.postfix?.log;
  if (!log || !fs.existsSync(log)) return 0;
  return fs.readFileSync(log, "utf8").split("\n").filter((line) => /Connection concurrency limit exceeded/.test(line)).length;
}

describe.each<ProbeMode>(["hello", "full"])("a Postfix limited to 2 sessions per client, probed on its 3 addresses at once (%s mode)", (mode) => {
  it("returns complete matrices in 5 runs out of 5, after learning the server's budget", { timeout: 180_000 }, async () => {
    expect(host, "lab host mx-limited").toBeDefined();
    const addresses = [host!.address, ...host!.extraAddresses];
    expect(addresses).toHaveLength(3);
    expect(host!.clientConnectionLimit).toBe(2);
    // One gate for all runs, as in a worker process: what it learns in the first run it keeps.
    const gate = new ConnectionGate(2, 64);
    const refusedBefore = refusalsLogged();
    for (let run = 1; run <= 5; run++) {
      const reports = await Promise.all(addresses.map((address) => probeEndpoint({ host: address, port: 25, service: "smtp" }, { mode, connectionGate: gate, deadlineMs: 60_000 })));
      for (const report of reports) {
        const context = `run ${run}: ${JSON.stringify({ target: report.target, protocols: report.protocols, reasons: report.reasons })}`;
        expect(report.protocols, context).toEqual(ALL);
        expect(report.verdict, context).toBe("noncompliant");
      }
      // The three addresses greet with one name: one server, one budget, never above its limit.
      for (const address of addresses) expect(gate.serverLimitFor(address), `budget of ${address} after run ${run}`).toBeLessThanOrEqual(2);
    }
    // The limit was really reached (so the test exercises the pacing), by the first run's burst.
    expect(refusalsLogged() - refusedBefore).toBeGreaterThan(0);
  });
});
