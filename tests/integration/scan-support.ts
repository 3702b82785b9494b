// Shared by the scan-*.test.ts files: a database of their own (scans of "every host" must not see
// other files' hosts, and the queue must not hold other files' messages), real SMTP STARTTLS
// servers on loopback (the lab's mail-server peer, in-process), hosts created through the
// inventory service, and an in-process worker.
import type { AddressInfo, Server } from "node:net";
import { afterAll, beforeAll } from "vitest";
import type { SecureVersion } from "node:tls";
import { prisma } from "@/lib/db";
import { getBoss, stopBoss } from "@/lib/jobs/queue";
import { createHost } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";
import { setSetting } from "@/lib/settings";
import { startHostTaskRunner, type HostTaskRunner, type TaskKind } from "@/agents/tasks/runner";
import { scanTask } from "@/agents/tasks/scan";
import { createMailServer } from "../lab/peers/mail-server";
import { selfSignedCertificate, type PeerCertificate } from "../lab/peers/common";
import { ownDatabaseForFile } from "../support/own-database";
import { waitFor } from "../support/wait";

export const testActor = { id: null, email: "scan-tests@example.test" };

/** Points prisma and pg-boss at a fresh, migrated database for this file (tests/support/own-database.ts). */
export function scanDatabase(label: string): { url: () => string } {
  return ownDatabaseForFile(`scan_${label}`, {
    disconnect: stopBoss,
    connected: async () => {
      await getBoss();
      await setSetting(testActor, "allowedTargets", ["127.0.0.1/32"]);
    },
  });
}

let certificate: PeerCertificate | undefined;

export interface LoopbackSmtp {
  port: number;
  /** Restarts the server on the same port with other versions (between scans). */
  setVersions(min: SecureVersion, max: SecureVersion): Promise<void>;
  close(): Promise<void>;
}

const listen = (server: Server, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A real SMTP server with STARTTLS on loopback that accepts TLS versions min..max. */
export async function startSmtp(opts: { min: SecureVersion; max: SecureVersion; greetingMs?: number; host?: string }): Promise<LoopbackSmtp> {
  certificate ??= selfSignedCertificate("scan-test.lab");
  const host = opts.host ?? "127.0.0.1";
  const make = (min: SecureVersion, max: SecureVersion) =>
    createMailServer({ protocol: "smtp", minVersion: min, maxVersion: max, greetingMs: opts.greetingMs ?? 0, offerStartTls: true, afterStartTls: "tls", certificate: certificate! });
  let server = make(opts.min, opts.max);
  const port = await listen(server, 0, host);
  return {
    port,
    async setVersions(min, max) {
      await closeServer(server);
      server = make(min, max);
      await listen(server, port, host);
    },
    close: () => closeServer(server),
  };
}

/** A port on loopback with nothing listening (connection refused: unreachable). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const s = createServer();
  const port = await listen(s, 0, "127.0.0.1");
  await closeServer(s);
  return port;
}

let hostSeq = 0;
export async function makeHost(prefix: string, address: string, endpoints: Array<{ port: number; service?: string }>, name?: string) {
  const input = HostInput.parse({ name: name ?? `${prefix}-${++hostSeq}.scan.test`, address, platform: "linux", roles: "postfix", endpoints: endpoints.map((e) => `${e.port}/${e.service ?? "smtp"}`).join(";") });
  return createHost({ id: "00000000-0000-4000-8000-000000000001", email: testActor.email }, input);
}

/**
 * Six hosts, each on its own loopback address (`${net}.1` to `${net}.6`) so the prober's
 * 2-connections-per-address limit does not serialise them: three answer at once, three greet slowly
 * (3 s per connection, about 7 s per host) so they are still being probed seconds into the scan.
 * Allows 127.0.0.0/8 for them; their SMTP servers go into `servers`, for the caller to close.
 */
export async function halfSlowFleet(label: string, net: string, servers: LoopbackSmtp[]): Promise<Array<{ id: string; slow: boolean }>> {
  await setSetting(testActor, "allowedTargets", ["127.0.0.0/8"]);
  const hosts: Array<{ id: string; slow: boolean }> = [];
  for (let i = 0; i < 6; i++) {
    const slow = i >= 3;
    const address = `${net}.${i + 1}`;
    const server = await startSmtp({ min: "TLSv1", max: "TLSv1.3", greetingMs: slow ? 3_000 : 0, host: address });
    servers.push(server);
    hosts.push({ id: (await makeHost(`${label}-${slow ? "slow" : "fast"}`, address, [{ port: server.port }])).id, slow });
  }
  return hosts;
}

/** An in-process worker. Test servers answer fast, so the default probe limits are widened only for the slow-greeting ones. */
export async function startTestWorker(workerId: string, concurrency = 8, probeOptions: { timeoutMs?: number; deadlineMs?: number } = { timeoutMs: 10_000, deadlineMs: 60_000 }) {
  const boss = await getBoss();
  const runner = startHostTaskRunner(boss, { workerId, kinds: [scanTask({ concurrency, probeOptions })], pollIntervalMs: 500 });
  return () => runner.stop();
}

/**
 * For the enclosing block: an in-process scan worker (startTestWorker) before its tests; after them
 * the worker stopped and every server `smtp` started closed.
 */
export function scanWorkerForBlock(workerId: string, concurrency: number): { smtp: (opts: Parameters<typeof startSmtp>[0]) => Promise<LoopbackSmtp> } {
  const servers: LoopbackSmtp[] = [];
  let stopWorker: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    stopWorker = await startTestWorker(workerId, concurrency);
  });
  afterAll(async () => {
    await stopWorker?.();
    await Promise.all(servers.map((s) => s.close()));
  });
  return {
    smtp: async (opts) => {
      const s = await startSmtp(opts);
      servers.push(s);
      return s;
    },
  };
}

/** For the file: an in-process runner with `kind`, a task kind of the test's own, as its only kind. */
export function runKindForFile(workerId: string, kind: TaskKind): void {
  let runner: HostTaskRunner | undefined;
  beforeAll(async () => {
    runner = startHostTaskRunner(await getBoss(), { workerId, kinds: [kind], pollIntervalMs: 300 });
  });
  afterAll(async () => {
    await runner?.stop();
  });
}

export { waitFor };

export async function jobWhenTerminal(jobId: string, timeoutMs = 60_000) {
  return waitFor(
    `job ${jobId} to finish`,
    async () => {
      const job = await prisma.job.findUnique({ where: { id: jobId } });
      return job && ["succeeded", "failed", "cancelled", "halted"].includes(job.state) ? job : null;
    },
    timeoutMs,
  );
}

export async function tasksOf(jobId: string) {
  return prisma.jobTask.findMany({ where: { jobId }, include: { host: { include: { endpoints: true, status: true } } }, orderBy: { host: { name: "asc" } } });
}
