// Connections per endpoint and the time one connection takes, for BENCHMARKS.md's bound on the
// 50 ms RTT number: probes one endpoint per service of a bench target list a few times, one
// connection at a time, and counts the connections through the gate. Prints one JSON line.
// Usage: node --import tsx scripts/bench/connection-time.ts TARGETS_FILE PATH_NAME [ROUNDS]
import { readFileSync } from "node:fs";
import { probeEndpoint, type ProbeMode } from "../../lib/tls/probe";
import { ConnectionGate, type Slot } from "../../lib/tls/connection-gate";
import type { Service } from "../../lib/tls/types";

/** The process gate, one connection per address, counting what it lets through. */
class CountingGate extends ConnectionGate {
  connections = 0;
  constructor() {
    super(1);
  }
  override acquire(host: string, signal?: AbortSignal, ticket?: number): Promise<Slot> {
    this.connections++;
    return super.acquire(host, signal, ticket);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const [file, pathName, roundsText] = process.argv.slice(2);
  if (!file || !pathName) throw new Error("usage: connection-time.ts TARGETS_FILE PATH_NAME [ROUNDS]");
  const rounds = Number(roundsText ?? 5);
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  const byService = new Map<Service, { host: string; port: number }>();
  for (const line of lines) {
    const [hostPort, service] = line.split(/\s+/) as [string, Service];
    const at = hostPort.lastIndexOf(":");
    if (!byService.has(service)) byService.set(service, { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) });
  }
  const out: Record<string, unknown> = {};
  for (const mode of ["hello", "full"] as ProbeMode[]) {
    for (const [service, target] of byService) {
      const perConnection: number[] = [];
      const connections: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const gate = new CountingGate();
        const report = await probeEndpoint({ ...target, service }, { mode, connectionGate: gate });
        connections.push(gate.connections);
        perConnection.push(report.durationMs / gate.connections);
      }
      out[`${mode} ${service}`] = { connections: median(connections), msPerConnection: Math.round(median(perConnection)), range: [Math.round(Math.min(...perConnection)), Math.round(Math.max(...perConnection))] };
    }
  }
  process.stdout.write(`${JSON.stringify({ connectionTime: { path: pathName, rounds, ...out } })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
