// Outbound checks of Windows hosts against the Windows TEST DOUBLE (tests/lab/windows-double: not
// Windows, a documented stand-in), through a real in-process worker and its outbound check sink on
// loopback. The worker runs tlsfleet's PowerShell script over WinRM; the double, recognising it,
// really connects to the sink from its own process with the TLS versions its own SCHANNEL/.NET
// model allows as of its last boot. The sink (TLS 1.2+ only, like Microsoft 365) is the judge.
//
// The KB host (legacy-2012r2: SCHANNEL TLS 1.2 Client Enabled=0, DisabledByDefault=1, no .NET
// values) and the same registry on Polish Windows (legacy-2012r2-pl): refused and at_risk; after
// the windows-schannel playbook's "Enable TLS 1.2" still refused until the restart; after the
// restart TLS 1.2 negotiated.
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { prisma } from "@/lib/db";
import { createCredential } from "@/lib/credentials/service";
import { createOutboundCheckJob } from "@/lib/jobs/outbound";
import { setHostTrust } from "@/lib/hosts/host-keys";
import { startWorker } from "@/agents/worker";
import { windowsSchannel } from "@/agents/playbooks/windows-schannel";
import { openWinRmSession } from "@/agents/transport/winrm";
import { doubleEvents, startDouble, type RunningDouble } from "./windows-double-support";
import { scopeCredential } from "./custody-support";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor, waitFor } from "./scan-support";

const admin = { id: "00000000-0000-4000-8000-000000000001", email: "winout-tests@example.test" };
scanDatabase("winout_outbound");

const PROFILES = ["legacy-2012r2", "legacy-2012r2-pl"] as const;
type Profile = (typeof PROFILES)[number];
const doubles = new Map<Profile, RunningDouble>();
const hostIds = new Map<Profile, string>();
let worker: { stop(): Promise<void> } | undefined;
let sinkPort = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

beforeAll(async () => {
  sinkPort = await freePort();
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  // Not port 25: the Windows check dials the sink itself, no mail software routes it.
  process.env.TLSFLEET_OUTBOUND_SINK_LISTEN = `127.0.0.1:${sinkPort}`;
  reloadEnv();
  for (const profile of PROFILES) {
    const d = await startDouble(profile, { rebootDowntimeMs: 500 });
    doubles.set(profile, d);
    const credential = `winout-${profile}`;
    await createCredential(admin, { name: credential, kind: "winrm_basic", username: d.ready.user, secret: d.ready.password });
    await scopeCredential(credential, ["127.0.0.1/32"]);
    const h = await makeHost("winout", "127.0.0.1", [{ port: d.ready.ports.smtp, service: "smtp" }], `${profile}.winout.test`);
    await prisma.host.update({ where: { id: h.id }, data: { platform: "windows", roles: ["exchange"], transport: "winrm", port: d.ready.ports.winrmHttps, credential: { connect: { name: credential } } } });
    // As an admin would: pin the first certificate, and allow TLS 1.0/1.1 on the management
    // connection (the legacy listener speaks nothing newer before the fix).
    await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
    await setHostTrust(admin, { hostId: h.id, setting: "legacyTls", enabled: true });
    hostIds.set(profile, h.id);
  }
  worker = await startWorker({ workerId: "winout-test-worker", pollIntervalMs: 300 });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  for (const d of doubles.values()) await d.stop();
  delete process.env.TLSFLEET_OUTBOUND_SINK_LISTEN;
  reloadEnv();
});

/** One outbound check job of one host; its task and the check it stored. */
async function outboundCheck(profile: Profile) {
  const hostId = hostIds.get(profile)!;
  const { jobId } = await createOutboundCheckJob(testActor, { hostIds: [hostId] });
  await jobWhenTerminal(jobId, 120_000);
  const [task] = await tasksOf(jobId);
  const check = await prisma.outboundCheck.findFirstOrThrow({ where: { jobId, hostId } });
  const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId } });
  return { task: task!, check, status };
}

function session(profile: Profile) {
  const d = doubles.get(profile)!;
  return openWinRmSession({ host: "127.0.0.1", port: d.ready.ports.winrmHttps, transport: "https", auth: { kind: "basic", username: d.ready.user, password: d.ready.password }, tls: { thumbprint: d.ready.certificate.sha1, minVersion: "TLSv1" } });
}

const results = new Map<Profile, string[]>();
const record = (profile: Profile, line: string) => results.set(profile, [...(results.get(profile) ?? []), line]);

describe.each(PROFILES)("the outbound check of the Windows double, profile %s (SCHANNEL TLS 1.2 Client disabled)", (profile) => {
  it("is refused by the sink (the host offered TLS 1.0 only) and makes the host at_risk, naming outbound", async () => {
    const { task, check, status } = await outboundCheck(profile);
    expect(task.state, task.log).toBe("succeeded");
    expect(check).toMatchObject({ outcome: "refused", negotiated: null, offered: ["TLSv1"], sink: `127.0.0.1:${sinkPort}` });
    expect(check.detail).toMatch(/^outbound: the host offered nothing above TLS 1\.0 to the check sink 127\.0\.0\.1:\d+ at .*Microsoft 365 needs TLS 1\.2, so mail to it fails \(421 4\.4\.2\)$/);
    expect(task.log).toContain("the host reports a failure in the TLS handshake");
    expect(task.log).toContain("do not possess a common algorithm");
    expect(status.status).toBe("at_risk");
    expect(status.explanation).toMatch(/TLS 1\.2 not accepted outbound via 25\/smtp at .*Microsoft 365/);
    // What the double offered came from its own SCHANNEL/.NET model, not from tlsfleet.
    const connections = doubleEvents(doubles.get(profile)!.ready, "outbound-connection");
    expect(connections.at(-1)).toMatchObject({ via: "winrm", target: `127.0.0.1:${sinkPort}`, offered: ["TLS 1.0"] });
    record(profile, `${check.outcome} ${status.status}`);
  });

  it("after Enable TLS 1.2 over WinRM it stays refused until the restart, then negotiates TLS 1.2 with the sink", async () => {
    const s = await session(profile);
    try {
      const before = await windowsSchannel.check(s);
      const applied = await windowsSchannel.apply(s, windowsSchannel.plan(before, "enable-tls12"));
      expect(applied.pendingReboot).toBe(true);
    } finally {
      await s.close();
    }
    // SCHANNEL and .NET read these values when the machine starts.
    const pending = await outboundCheck(profile);
    expect(pending.check).toMatchObject({ outcome: "refused", offered: ["TLSv1"] });
    record(profile, `${pending.check.outcome} ${pending.status.status}`);

    const d = doubles.get(profile)!;
    const boots = doubleEvents(d.ready, "boot").length;
    const r = await session(profile);
    try {
      await windowsSchannel.reboot(r, { delaySeconds: 0, message: "tlsfleet: enabling TLS 1.2 (KB fix)" });
    } finally {
      await r.close();
    }
    await waitFor("the double to boot again", async () => doubleEvents(d.ready, "boot").length > boots && doubleEvents(d.ready, "listening").length > boots, 30_000);

    const { task, check, status } = await outboundCheck(profile);
    expect(task.state, task.log).toBe("succeeded");
    expect(check).toMatchObject({ outcome: "negotiated", negotiated: "TLSv1.2" });
    expect(check.detail).toMatch(/^outbound TLS 1\.2 negotiated with the check sink 127\.0\.0\.1:\d+ at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(task.log).toContain("the host reports TLS 1.2");
    expect(status.status).not.toBe("at_risk");
    expect(status.explanation).not.toMatch(/not accepted outbound/);
    expect(status.explanation).toMatch(/outbound via 25\/smtp: TLS 1\.2 negotiated/);
    expect(doubleEvents(d.ready, "outbound-connection").at(-1)).toMatchObject({ offered: ["TLS 1.0", "TLS 1.1", "TLS 1.2"] });
    record(profile, `${check.outcome} ${check.negotiated} ${status.status}`);
  }, 180_000);
});

describe("the Polish profile", () => {
  it("gives the same verdicts and statuses as the English one at every step", () => {
    expect(results.get("legacy-2012r2")).toHaveLength(3);
    expect(results.get("legacy-2012r2-pl")).toEqual(results.get("legacy-2012r2"));
  });
});
