// Two real worker processes (`node bin/tlsfleet worker`) scanning hosts that are one server: the
// server's connection budget holds for both together (docs/domain.md "Pacing per server"). The
// server is several SMTP STARTTLS listeners on 127.0.0.1 that all greet as "peer.lab" (one server
// on several ports, as one Postfix on many addresses), counting the sessions open over all of them.
// With TLSFLEET_PROBE_SERVER_BUDGET=3 one worker may have 2 open (the per-address limit), so two
// workers that did not share the budget would reach 4; sharing, they split it 2 + 1.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { selfSignedCertificate } from "../lab/peers/common";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor, waitFor } from "./scan-support";
import { workerProcesses } from "./worker-process-support";

const db = scanDatabase("workers_budget");
const workers = workerProcesses();
const listeners: Server[] = [];
const sockets = new Set<Socket>();
const BUDGET = 3;

afterAll(async () => {
  await workers.killAll();
  for (const s of sockets) s.destroy();
  await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
});

/**
 * `ports` SMTP STARTTLS listeners of one server (all greet as "peer.lab"); `max()` is the most
 * sessions it ever had open at once over all of them. A session ends for the count at the first
 * sign the session is over (QUIT answered, the client's FIN at the TCP or the TLS layer, the
 * socket closing), so the count never lags behind the client's gate (which frees a slot only
 * once the server hung up: lib/tls/probe.ts).
 */
async function oneServerOnPorts(ports: number) {
  const { key, cert } = selfSignedCertificate("budget-test.lab");
  const secureContext = createSecureContext({ key, cert, minVersion: "TLSv1", maxVersion: "TLSv1.3", ciphers: "ALL:@SECLEVEL=0" });
  let open = 0;
  let max = 0;
  const bound: number[] = [];
  for (let i = 0; i < ports; i++) {
    const server = createServer((socket) => {
      open++;
      max = Math.max(max, open);
      let counted = true;
      const done = () => {
        if (counted) open--;
        counted = false;
      };
      socket.once("end", done);
      socket.once("close", done);
      socket.on("error", () => {
        done();
        socket.destroy();
      });
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      // The greeting takes 300 ms (in two pieces, as slow servers send it): sessions overlap.
      socket.write("220-peer.lab ESMTP budget test\r\n");
      const greeted = setTimeout(() => socket.writable && socket.write("220 peer.lab ready\r\n"), 300);
      socket.once("close", () => clearTimeout(greeted));
      let buffered = "";
      const onData = (data: Buffer) => {
        buffered += data.toString("latin1");
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const verb = buffered.slice(0, nl).trim().split(" ")[0]!.toUpperCase();
          buffered = buffered.slice(nl + 1);
          if (verb === "EHLO") socket.write("250-peer.lab\r\n250 STARTTLS\r\n");
          else if (verb === "QUIT") {
            done();
            socket.end("221 2.0.0 Bye\r\n");
          }
          else if (verb === "STARTTLS") {
            socket.off("data", onData);
            socket.write("220 2.0.0 Ready to start TLS\r\n");
            const secure = new TLSSocket(socket, { isServer: true, secureContext });
            secure.on("error", () => {
              done();
              secure.destroy();
            });
            // The prober says QUIT over TLS and frees its slot once we hang up: the session ends
            // for the count when we decide to hang up, before the client can see it.
            secure.on("data", (d: Buffer) => {
              if (/^QUIT/i.test(d.toString("latin1"))) {
                done();
                secure.end("221 2.0.0 Bye\r\n");
              }
            });
            secure.once("end", () => {
              done();
              secure.end();
            });
            secure.once("close", done);
            return;
          } else socket.write("502 5.5.2 Error: command not recognized\r\n");
        }
      };
      socket.on("data", onData);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    listeners.push(server);
    bound.push((server.address() as AddressInfo).port);
  }
  return { ports: bound, open: () => open, max: () => max };
}

describe("two workers scanning hosts of one server", () => {
  it("never have more connections open to it together than its budget, and both take part", async () => {
    const server = await oneServerOnPorts(4);
    const hosts = [];
    for (let i = 0; i < 36; i++) hosts.push(await makeHost("budget", "127.0.0.1", [{ port: server.ports[i % server.ports.length]! }]));
    const env = { TLSFLEET_WORKER_CONCURRENCY: "4", TLSFLEET_PROBE_SERVER_BUDGET: String(BUDGET), TLSFLEET_LEASE_SECONDS: "6" };

    // The second worker joins while the first is using the whole budget: it must wait for the
    // first to shrink to its share before it opens anything.
    const first = workers.start("worker 1", db.url(), env);
    await waitFor("worker 1 to start", async () => first.output().includes("worker started"), 60_000);
    const { jobId } = await createScanJob(testActor, { hostIds: hosts.map((h) => h.id) }, { maxConcurrency: 64 });
    await waitFor("worker 1 to have the server at its budget", async () => server.open() >= 2, 30_000);
    const second = workers.start("worker 2", db.url(), env);

    const job = await jobWhenTerminal(jobId, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output(40)}\n${second.output(40)}`);
    });
    console.log(`workers-server-budget: at most ${server.max()} sessions open to the server (budget ${BUDGET})`);
    expect(job.state).toBe("succeeded");
    expect(server.max()).toBeLessThanOrEqual(BUDGET);

    const tasks = await tasksOf(jobId);
    expect(tasks.every((t) => t.state === "succeeded" && t.host.status?.status === "noncompliant")).toBe(true);
    // Both workers scanned hosts of the job (each task's log names the worker of its attempt).
    const ranBy = new Set(tasks.map((t) => /attempt 1 on (\S+)/.exec(t.log)?.[1]));
    expect(ranBy.size, `${first.output(30)}\n${second.output(30)}\n${tasks.map((t) => t.log).join("\n")}`).toBe(2);
    // Both were counted, and each saw the other.
    const presence = await prisma.workerPresence.findMany();
    expect(presence).toHaveLength(2);
    for (const p of presence) expect([...p.sees].sort()).toEqual(presence.map((q) => q.workerId).sort());

    await Promise.all([first.stop(), second.stop()]);
    expect(await prisma.workerPresence.count()).toBe(0);
  });
});
