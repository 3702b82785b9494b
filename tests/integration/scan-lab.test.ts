// A scan job over the whole lab fleet (real Postfix, nginx and Dovecot in network namespaces, plus
// the misbehaving peers): every endpoint's stored evidence must match what the lab was built to
// produce, and every host's status and task outcome must follow from it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { wireProtocols } from "@/lib/compliance/update";
import { setSetting } from "@/lib/settings";
import { ensureLabUp, type LabHost } from "../lab/fleet";
import { jobWhenTerminal, makeHost, scanDatabase, startTestWorker, tasksOf, testActor } from "./scan-support";

// Brings the lab up when it is not; fails the file with the lab's own message when it cannot.
const fleet = ensureLabUp();

scanDatabase("lab");

/** The host status evaluateHostStatus must reach from wire evidence alone, by the table in docs/architecture.md "The probe's verdict". */
function expectedStatus(host: LabHost): string {
  const verdicts = host.endpoints.map((e) => e.expectedVerdict);
  if (verdicts.some((v) => v === "at_risk" || v === "no-tls")) return "at_risk";
  if (verdicts.includes("noncompliant")) return "noncompliant";
  if (verdicts.includes("unreachable")) return "unreachable";
  if (verdicts.includes("error")) return "error";
  return "compliant";
}

let stopWorker: (() => Promise<void>) | undefined;
const hostIds = new Map<string, string>();
let jobId = "";
let tookMs = 0;

beforeAll(async () => {
  await setSetting(testActor, "allowedTargets", [`${fleet.network.rootAddress.split(".").slice(0, 2).join(".")}.0.0/15`]);
  for (const host of fleet.hosts) {
    const created = await makeHost("lab", host.address, host.endpoints.map((e) => ({ port: e.port, service: e.service })), `${host.name}.lab.tlsfleet.test`);
    hostIds.set(host.name, created.id);
  }
  // Production probe limits (8 s per step, 30 s per endpoint): the peers that never greet or
  // never stop greeting must be judged exactly as a real scan judges them.
  stopWorker = await startTestWorker("scan-lab-test-worker", 32, {});
  const started = Date.now();
  ({ jobId } = await createScanJob(testActor, { all: true }));
  await jobWhenTerminal(jobId, 170_000);
  tookMs = Date.now() - started;
}, 240_000);

afterAll(async () => {
  await stopWorker?.();
});

describe("a scan of the lab fleet", () => {
  it("finishes with every host probed once", async () => {
    const endpoints = fleet.hosts.reduce((n, h) => n + h.endpoints.length, 0);
    console.log(`scan-lab: ${fleet.hosts.length} hosts, ${endpoints} endpoints scanned in ${tookMs} ms`);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job.state).toBe("succeeded");
    expect(await prisma.probeResult.count({ where: { jobId } })).toBe(endpoints);
  });

  for (const host of fleet.hosts) {
    it(`${host.name}: evidence per endpoint, task outcome and status (${expectedStatus(host)})`, async () => {
      const hostId = hostIds.get(host.name)!;
      const task = (await tasksOf(jobId)).find((t) => t.hostId === hostId)!;
      const allUnreachable = host.endpoints.every((e) => e.expectedVerdict === "unreachable");
      expect(task.state).toBe(allUnreachable ? "unreachable" : "succeeded");
      expect(task.attempt).toBe(1);
      for (const endpoint of host.endpoints) {
        const result = await prisma.probeResult.findFirstOrThrow({ where: { jobId, endpoint: { hostId, port: endpoint.port } } });
        const context = `${endpoint.port}/${endpoint.service}: ${JSON.stringify(result.protocols)} ${result.error ?? ""}`;
        expect(result.verdict, context).toBe(endpoint.expectedVerdict);
        expect(wireProtocols(result.protocols), context).toEqual(endpoint.expected);
        if (endpoint.starttls !== null) expect(result.starttls, context).toBe(endpoint.starttls);
        expect(task.log).toContain(`${endpoint.port}/${endpoint.service}: `);
      }
      const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId } });
      expect(status.status, status.explanation).toBe(expectedStatus(host));
      expect(status.lastScanAt).not.toBeNull();
    });
  }
});
