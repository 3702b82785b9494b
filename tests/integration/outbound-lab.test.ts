// Outbound checks against the lab's real Postfix instances: each host's own smtp client sends a
// message to the outbound check sink (started by the worker on the lab bridge, 198.18.0.1:25),
// which, like Microsoft 365, takes TLS 1.2 or newer only. What the host's smtp_tls_* settings
// make it offer is what the check must report.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { prisma } from "@/lib/db";
import { createCredential } from "@/lib/credentials/service";
import { createOutboundCheckJob } from "@/lib/jobs/outbound";
import { setSetting } from "@/lib/settings";
import { startWorker } from "@/agents/worker";
import { postfixPlaybook } from "@/agents/playbooks/postfix";
import { openSshSession } from "@/agents/transport/ssh";
import { parseAllowList } from "@/lib/tls";
import { ensureLabUp } from "../lab/fleet";
import { scopeCredential } from "./custody-support";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor } from "./scan-support";

const fleet = ensureLabUp();
const admin = { id: "00000000-0000-4000-8000-000000000001", email: "outbound-tests@example.test" };
scanDatabase("outbound");

const labHost = (name: string) => fleet.hosts.find((h) => h.name === name)!;
/** Runs a command on a lab host as its admin would (OpenSSH with the lab's key and known_hosts). */
const onHost = (name: string, command: string) => execFileSync("ssh", ["-F", fleet.ssh.configPath, name, command], { encoding: "utf8", timeout: 60_000 });

// Changed for these tests and put back afterwards: the client side of two hosts.
const CHANGED: Record<string, Record<string, string>> = {
  // Offers TLS 1.0 only (the KB's host, old exclusion syntax): Microsoft 365 refuses it.
  "mx-tls10only": { smtp_tls_protocols: "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3", smtp_tls_mandatory_protocols: "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3" },
  // Never starts TLS when sending.
  "mx-notls": { smtp_tls_security_level: "none" },
};
// Every parameter these tests (and the Enable TLS 1.2 apply below) may change, restored afterwards.
const TOUCHED = ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols", "smtp_tls_mandatory_protocols", "smtp_tls_security_level"];
const original = new Map<string, string>();
const hostIds = new Map<string, string>();
let worker: { stop(): Promise<void> } | undefined;
let jobId = "";

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  process.env.TLSFLEET_OUTBOUND_SINK_LISTEN = `${fleet.network.rootAddress}:25`;
  reloadEnv();
  for (const [name, values] of Object.entries(CHANGED)) {
    original.set(name, onHost(name, `postconf -n ${TOUCHED.join(" ")}`));
    onHost(name, `postconf -e ${Object.entries(values).map(([k, v]) => `'${k}=${v}'`).join(" ")} && postfix reload`);
  }
  await setSetting(testActor, "allowedTargets", ["198.18.0.0/15"]);
  await createCredential(admin, { name: "lab-root", kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(fleet.ssh.keyPath, "utf8") });
  await scopeCredential("lab-root", ["198.18.0.0/15"]);
  for (const name of ["mx-legacy", "mx-modern", "mx-tls10only", "mx-notls"]) {
    const h = labHost(name);
    const created = await makeHost("outbound", h.address, [{ port: 25, service: "smtp" }], `${name}.outbound.test`);
    await prisma.host.update({ where: { id: created.id }, data: { platform: "linux", roles: h.roles, transport: "ssh", port: 22, credential: { connect: { name: "lab-root" } }, pinnedKey: h.ssh.hostKeyFingerprint, pinnedAt: new Date() } });
    hostIds.set(name, created.id);
  }
  worker = await startWorker({ workerId: "outbound-test-worker", pollIntervalMs: 300 });
  ({ jobId } = await createOutboundCheckJob(testActor, { hostIds: [...hostIds.values()] }));
  await jobWhenTerminal(jobId, 240_000);
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  delete process.env.TLSFLEET_OUTBOUND_SINK_LISTEN;
  reloadEnv();
  for (const name of Object.keys(CHANGED)) {
    // Explicit values come back as they were; the ones that were defaults are removed again.
    const before = original.get(name) ?? "";
    const restore = TOUCHED.map((k) => {
      const line = before.split("\n").find((l) => l.startsWith(`${k} = `));
      return line ? `postconf -e '${k}=${line.slice(k.length + 3)}'` : `postconf -X ${k}`;
    });
    onHost(name, `${restore.join(" && ")} && postfix reload`);
  }
});

async function latest(name: string) {
  return prisma.outboundCheck.findFirstOrThrow({ where: { hostId: hostIds.get(name)! }, orderBy: { checkedAt: "desc" } });
}

describe("an outbound check of the lab's Postfix hosts", () => {
  it("records TLS 1.3 negotiated for hosts whose smtp client allows it", async () => {
    for (const name of ["mx-legacy", "mx-modern"]) {
      const check = await latest(name);
      expect(check, name).toMatchObject({ outcome: "negotiated", negotiated: "TLSv1.3", sink: "198.18.0.1:25" });
      expect(check.detail).toMatch(/^outbound TLS 1\.3 negotiated with the check sink 198\.18\.0\.1:25 at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    }
  });

  it("reports a host that offers only TLS 1.0 as refused, in the words of the 421 4.4.2 failure", async () => {
    const check = await latest("mx-tls10only");
    expect(check).toMatchObject({ outcome: "refused", negotiated: null, offered: ["TLSv1"] });
    expect(check.detail).toMatch(/the host offered nothing above TLS 1\.0 .*Microsoft 365 needs TLS 1\.2, so mail to it fails \(421 4\.4\.2\)/);
  });

  it("makes the outbound check wire evidence of the outbound direction in host status", async () => {
    const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: hostIds.get("mx-tls10only")! } });
    expect(status.status).toBe("at_risk");
    expect(status.explanation).toMatch(/TLS 1\.2 not accepted outbound via 25\/smtp at .*Microsoft 365/);
    const clear = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: hostIds.get("mx-notls")! } });
    expect(clear.status).toBe("at_risk");
    expect(clear.explanation).toMatch(/STARTTLS not offered outbound via 25\/smtp/);
  });

  it("after Enable TLS 1.2 (the Postfix playbook over SSH), the next check negotiates TLS 1.2+ with the sink", async () => {
    const h = labHost("mx-tls10only");
    const session = await openSshSession({ host: h.address, hostLabel: h.name, credential: { kind: "ssh-key", username: h.ssh.user, privateKey: readFileSync(h.ssh.keyPath) }, pinnedFingerprint: h.ssh.hostKeyFingerprint, allowList: parseAllowList(["198.18.0.0/15"]) });
    try {
      const state = await postfixPlaybook.check(session);
      const changes = postfixPlaybook.plan(state, "enable-tls12");
      expect(changes.map((c) => c.value)).toEqual(expect.arrayContaining(["smtp_tls_protocols", "smtp_tls_mandatory_protocols"]));
      await postfixPlaybook.apply(session, changes, { before: state });
    } finally {
      await session.close();
    }
    const { jobId: again } = await createOutboundCheckJob(testActor, { hostIds: [hostIds.get("mx-tls10only")!] });
    await jobWhenTerminal(again, 180_000);
    const check = await latest("mx-tls10only");
    expect(check.outcome).toBe("negotiated");
    expect(["TLSv1.2", "TLSv1.3"]).toContain(check.negotiated);
    const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId: hostIds.get("mx-tls10only")! } });
    // The outbound finding is gone; the host has no inbound probe here, so the check is what speaks.
    expect(status.status).toBe("compliant");
    expect(status.explanation).toMatch(/^Wire: outbound via 25\/smtp: TLS 1\.[23] negotiated at /);
  });

  it("reports a host that never starts TLS as the 451 5.7.3 case", async () => {
    const check = await latest("mx-notls");
    expect(check.outcome).toBe("no_starttls");
    expect(check.detail).toContain("451 5.7.3 Must issue a STARTTLS command first");
  });

  it("leaves no check message in any host's queue and finishes every task", async () => {
    const tasks = await tasksOf(jobId);
    for (const t of tasks) expect(t.state, t.log).toBe("succeeded");
    for (const name of hostIds.keys()) expect(onHost(name, "postqueue -j"), name).not.toContain("tlsfleet-check-");
  });
});
