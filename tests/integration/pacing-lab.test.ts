// A real Postfix that allows the prober 2 sessions at once over all three addresses it answers on
// (lab host mx-limited: smtpd_client_connection_count_limit = 2). Probing all three addresses at
// once, 2 connections per address, would be 6 sessions: Postfix greets the third with
// "421 4.7.0 ... too many connections". The prober must learn from the greeting that the three
// addresses are one server, learn its budget from the refusal, and still return a complete
// matrix for every address, run after run.
import fs from "node:fs";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionGate, probeEndpoint } from "../../lib/tls";
import type { ProbeMode } from "../../lib/tls/probe";
import { ensureLabUp } from "../lab/fleet";
import { waitFor } from "../support/wait";

const fleet = ensureLabUp();
const host = fleet.hosts.find((h) => h.name === "mx-limited");
const ALL = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };

/** Postfix's own count of sessions it refused for the limit (smtpd logs each one). */
function refusalsLogged(): number {
  const log = host?.config.postfix?.log;
  if (!log || !fs.existsSync(log)) return 0;
  return fs.readFileSync(log, "utf8").split("\n").filter((line) => /Connection concurrency limit exceeded/.test(line)).length;
}

/**
 * Postfix's master(8) starts smtpd processes on demand: with few idle ones, a burst is served one
 * session after another and anvil never counts more than 2 at once, so whether the first run is
 * refused depended on what ran before (CI, 2026-12-08: budget still 40 after run 1). Holding
 * `sessions` connections open until each is greeted leaves that many smtpd processes idle (for
 * max_idle, 100 s), so the probes' burst really is concurrent at the server.
 */
async function warmSmtpd(address: string, sessions: number): Promise<void> {
  const loggedBefore = refusalsLogged();
  const greeted = await Promise.all(
    Array.from({ length: sessions }, () => new Promise<{ socket: net.Socket; refused: boolean }>((resolve, reject) => {
      const socket = net.connect({ host: address, port: 25 });
      socket.setTimeout(10_000, () => socket.destroy(new Error(`no greeting from ${address}:25 in 10 s`)));
      socket.once("data", (line) => resolve({ socket, refused: line.toString("latin1").startsWith("421") }));
      socket.once("error", reject);
    })),
  );
  for (const { socket } of greeted) socket.end("QUIT\r\n");
  // postlogd writes the log a moment later: wait for these refusals, so none is taken for the probes'.
  const refused = greeted.filter((g) => g.refused).length;
  await waitFor("Postfix to log the warm-up's refusals", async () => (refusalsLogged() - loggedBefore >= refused ? true : null), 10_000, 50);
}

describe.each<ProbeMode>(["hello", "full"])("a Postfix limited to 2 sessions per client, probed on its 3 addresses at once (%s mode)", (mode) => {
  it("returns complete matrices in 5 runs out of 5, after learning the server's budget", { timeout: 180_000 }, async () => {
    expect(host, "lab host mx-limited").toBeDefined();
    const addresses = [host!.address, ...host!.extraAddresses];
    expect(addresses).toHaveLength(3);
    expect(host!.clientConnectionLimit).toBe(2);
    // One gate for all runs, as in a worker process: what it learns in the first run it keeps.
    const gate = new ConnectionGate(2, 64);
    await warmSmtpd(addresses[0]!, 3 * addresses.length);
    const refusedBefore = refusalsLogged();
    let refusedSoFar = refusedBefore;
    for (let run = 1; run <= 5; run++) {
      const reports = await Promise.all(addresses.map((address) => probeEndpoint({ host: address, port: 25, service: "smtp" }, { mode, connectionGate: gate, deadlineMs: 60_000 })));
      for (const report of reports) {
        const context = `run ${run}: ${JSON.stringify({ target: report.target, protocols: report.protocols, reasons: report.reasons })}`;
        expect(report.protocols, context).toEqual(ALL);
        expect(report.verdict, context).toBe("noncompliant");
      }
      // Once refused, the three addresses (one greeting name: one server) share one budget that
      // never goes above the limit again.
      refusedSoFar = Math.max(refusedSoFar, refusalsLogged());
      if (refusedSoFar > refusedBefore) {
        for (const address of addresses) expect(gate.serverLimitFor(address), `budget of ${address} after run ${run}`).toBeLessThanOrEqual(2);
      }
    }
    // The limit was really reached (so the test exercises the pacing), by the first run's burst.
    expect(refusalsLogged() - refusedBefore).toBeGreaterThan(0);
  });
});
