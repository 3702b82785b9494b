// Credential custody and trust on first use at the wire (issue 9), in the lab: real config audit
// jobs run by an in-process worker against two lab peers in their own network namespaces,
// peer-custody-ssh (an SSH server on ADDRESS:2222) and peer-custody-winrm (a WinRM HTTPS listener
// on ADDRESS:5986), see tests/lab/peers/custody-*.ts. Both are test doubles that follow the
// protocols only far enough to see what a client sends, and record it in the lab's state dir
// (hosts/peer-NAME/logs/records.jsonl): every connection, every USERAUTH request (RFC 4252 5:
// method, user name, whether a password or signature came with it) and every HTTP request with
// the scheme of its Authorization header (RFC 7617: Basic carries the password). Each case reads
// only the records written while it ran. The same peer hosts' OpenSSH (port 22) and the
// certificate the lab made for them are the "other" keys. Only lab addresses are dialled.
import { randomBytes, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "@/agents/worker";
import { prisma } from "@/lib/db";
import { reloadEnv } from "@/lib/env";
import { createCredential } from "@/lib/credentials/service";
import { setCredentialScope } from "@/lib/credentials/scope";
import { getHostDetail } from "@/lib/hosts/detail";
import { confirmHostKey, setHostTrust } from "@/lib/hosts/host-keys";
import { createAuditJob } from "@/lib/jobs/audits";
import { setSetting } from "@/lib/settings";
import { ensureLabUp, type LabHost } from "../lab/fleet";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor } from "./scan-support";

const fleet = ensureLabUp();
scanDatabase("custody2_host_identity");

const admin = { id: "00000000-0000-4000-8000-000000000001", email: "identity-tests@example.test" };

interface PeerRecord {
  event: "listening" | "connection" | "handshake" | "userauth" | "tls-handshake" | "request";
  method?: string;
  username?: string;
  secretPresented?: boolean;
  authorization?: string | null;
  hostKeyFingerprint?: string;
  certificateSha256?: string;
}

/** A recording lab peer: where it listens and what it recorded since `mark()`. */
class LabPeer {
  readonly host: LabHost;
  readonly port: number;
  private readonly file: string;
  constructor(name: string) {
    const host = fleet.hosts.find((h) => h.name === name);
    if (!host?.config.peer) throw new Error(`lab host ${name} is missing from the manifest: run the lab's \`up\` again`);
    this.host = host;
    this.port = host.endpoints[0]!.port;
    this.file = host.config.peer.record;
  }
  get address() {
    return this.host.address;
  }
  all(): PeerRecord[] {
    return readFileSync(this.file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as PeerRecord);
  }
  /** The key it presents, as it announced it at start. */
  listening(): PeerRecord {
    const r = this.all().findLast((e) => e.event === "listening");
    if (!r) throw new Error(`${this.host.name} recorded no start in ${this.file}`);
    return r;
  }
  /** Records written from now on: call the result to read them. */
  mark(): () => PeerRecord[] {
    const from = this.all().length;
    return () => this.all().slice(from);
  }
}

const sshPeer = new LabPeer("peer-custody-ssh");
const winrmPeer = new LabPeer("peer-custody-winrm");
const sshKey = () => sshPeer.listening().hostKeyFingerprint!;
const winrmCertificate = () => winrmPeer.listening().certificateSha256!;
const events = (records: PeerRecord[], event: PeerRecord["event"]) => records.filter((r) => r.event === event);

let worker: { stop(): Promise<void> } | undefined;
const credentialIds = { ssh: "", winrm: "" };
const inScope = (peer: LabPeer) => ({ hosts: [], groups: [], cidrs: [`${peer.address}/32`] });

async function audit(hostId: string) {
  const { jobId } = await createAuditJob(testActor, { hostIds: [hostId] });
  await jobWhenTerminal(jobId, 120_000);
  return (await tasksOf(jobId)).find((t) => t.hostId === hostId)!;
}

/**
 * An audit at a key (or certificate) nobody has confirmed: the task fails asking for the
 * confirmation, and the peer saw a connection but no `credentialEvent` (nothing of the credential).
 */
async function auditHeldAtFirstContact(peer: LabPeer, hostId: string, credentialEvent: PeerRecord["event"]) {
  const seen = peer.mark();
  const task = await audit(hostId);
  expect(task.state).toBe("failed");
  expect(task.error).toContain("confirm the key on the host page");
  expect(events(seen(), "connection").length).toBeGreaterThan(0);
  expect(events(seen(), credentialEvent)).toEqual([]);
  return task;
}

async function auditEvents(action: string, hostName: string) {
  return prisma.auditEvent.findMany({ where: { action, target: `host:${hostName}` }, orderBy: { id: "asc" } });
}

let seq = 0;
/** A host as an admin sets it up at a lab peer: transport, port and credential; trust as decided. */
async function labHost(transport: "ssh" | "winrm", opts: { trustOnFirstUse?: boolean; port?: number } = {}) {
  const peer = transport === "ssh" ? sshPeer : winrmPeer;
  const name = `${transport}-${++seq}.identity.test`;
  const h = await makeHost("identity", peer.address, [{ port: 25 }], name);
  await prisma.host.update({
    where: { id: h.id },
    data: { transport, port: opts.port ?? peer.port, credentialId: credentialIds[transport], ...(transport === "winrm" ? { platform: "windows", roles: ["exchange"] } : {}) },
  });
  if (opts.trustOnFirstUse) await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
  return { id: h.id, name };
}

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  await setSetting(testActor, "allowedTargets", ["198.18.0.0/16"]);
  credentialIds.ssh = (await createCredential(admin, { name: "identity-ssh", kind: "ssh_password", username: "root", secret: "ssh-secret-never-to-strangers" })).id;
  credentialIds.winrm = (await createCredential(admin, { name: "identity-winrm", kind: "winrm_basic", username: "svc", secret: "winrm-secret-never-to-strangers" })).id;
  // As an admin would: each may be used for its peer's address, and nowhere else.
  await setCredentialScope(admin, { credentialId: credentialIds.ssh, ...inScope(sshPeer) });
  await setCredentialScope(admin, { credentialId: credentialIds.winrm, ...inScope(winrmPeer) });
  worker = await startWorker({ workerId: "identity-test-worker" });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

describe("credential scope", () => {
  it("SSH: a host outside the credential's scope gets no connection at all, the task says what an admin must do", async () => {
    const h = await labHost("ssh", { trustOnFirstUse: true });
    // A lab range that does not hold the peer's address.
    await setCredentialScope(admin, { credentialId: credentialIds.ssh, hosts: [], groups: [], cidrs: ["198.18.1.0/24"] });
    try {
      const seen = sshPeer.mark();
      const task = await audit(h.id);
      expect(task.state).toBe("failed");
      expect(task.error).toMatch(/Credential "identity-ssh" may not be used for ssh-\d+\.identity\.test .*outside the credential's scope.*Settings > Credentials/);
      expect(seen()).toEqual([]);
      expect(await auditEvents("audit.credential_out_of_scope", h.name)).toHaveLength(1);
    } finally {
      await setCredentialScope(admin, { credentialId: credentialIds.ssh, ...inScope(sshPeer) });
    }
  });

  it("WinRM: outside the scope (an empty one is usable nowhere): no connection, no request", async () => {
    const h = await labHost("winrm", { trustOnFirstUse: true });
    await setCredentialScope(admin, { credentialId: credentialIds.winrm, hosts: [], groups: [], cidrs: [] });
    try {
      const seen = winrmPeer.mark();
      const task = await audit(h.id);
      expect(task.state).toBe("failed");
      expect(task.error).toContain('Credential "identity-winrm" has no scope yet');
      expect(seen()).toEqual([]);
    } finally {
      await setCredentialScope(admin, { credentialId: credentialIds.winrm, ...inScope(winrmPeer) });
    }
  });
});

describe("trust on first use over SSH", () => {
  it("an unconfirmed key is read without USERAUTH and shown for an admin; after the admin confirms it, the login happens", async () => {
    const h = await labHost("ssh");
    const task = await auditHeldAtFirstContact(sshPeer, h.id, "userauth");
    expect(task.error).toContain(sshKey());
    const detail = await getHostDetail(h.id);
    expect(detail?.host).toMatchObject({ pinnedKey: null, pinnedKeyPending: sshKey() });
    expect(await auditEvents("host.key_first_seen", h.name)).toHaveLength(1);

    await confirmHostKey(admin, { hostId: h.id, key: sshKey() });
    const second = sshPeer.mark();
    const confirmed = await audit(h.id);
    expect(confirmed.log).toContain("host key matches the pinned one");
    expect(events(second(), "userauth")).toContainEqual(expect.objectContaining({ method: "password", username: "root", secretPresented: true }));
  });

  it("a key other than the one waiting for confirmation is refused and audited, no USERAUTH, the first one stays pending", async () => {
    // First contact with the same lab host's OpenSSH on port 22: its key is recorded as pending.
    const h = await labHost("ssh", { port: 22 });
    const openssh = sshPeer.host.ssh.hostKeyFingerprint;
    await audit(h.id);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).pinnedKeyPending).toBe(openssh);

    // Then another server answers for the host (the peer on 2222, another key).
    await prisma.host.update({ where: { id: h.id }, data: { port: sshPeer.port } });
    const seen = sshPeer.mark();
    const task = await audit(h.id);
    expect(task.state).toBe("failed");
    expect(task.error).toMatch(/differs from the one recorded at first contact/);
    expect(events(seen(), "connection").length).toBeGreaterThan(0);
    expect(events(seen(), "userauth")).toEqual([]);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).pinnedKeyPending).toBe(openssh);
    const [mismatch] = await auditEvents("host.key_mismatch", h.name);
    expect(mismatch?.details).toMatchObject({ against: "pending", expected: openssh, presented: sshKey(), recordedAsPending: false });
  });

  it("explicit trust on first use pins the first key before logging in; a changed key is then refused and audited without USERAUTH", async () => {
    const h = await labHost("ssh", { trustOnFirstUse: true });
    const first = sshPeer.mark();
    const task = await audit(h.id);
    expect(task.log).toContain(`first contact: host key ${sshKey()} pinned`);
    expect(events(first(), "userauth")).toContainEqual(expect.objectContaining({ username: "root", secretPresented: true }));
    expect(await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).toMatchObject({ pinnedKey: sshKey(), pinnedKeyPending: null });
    expect(await auditEvents("host.key_pinned_first_use", h.name)).toHaveLength(1);

    // The pin is the host's OpenSSH key now, as if it had been pinned there and another server answered.
    const openssh = sshPeer.host.ssh.hostKeyFingerprint;
    await prisma.host.update({ where: { id: h.id }, data: { pinnedKey: openssh } });
    const seen = sshPeer.mark();
    const changed = await audit(h.id);
    expect(changed.state).toBe("failed");
    expect(changed.error).toContain("Nothing was sent");
    expect(events(seen(), "userauth")).toEqual([]);
    expect(await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).toMatchObject({ pinnedKey: openssh, pinnedKeyPending: sshKey() });
    const [mismatch] = await auditEvents("host.key_mismatch", h.name);
    expect(mismatch?.details).toMatchObject({ against: "pinned", presented: sshKey(), authenticationAttempted: false });
  });
});

describe("trust on first use over WinRM HTTPS", () => {
  it("an unconfirmed certificate: a TLS connection only, no HTTP request; after the admin confirms it, the Authorization header is sent", async () => {
    const h = await labHost("winrm");
    await auditHeldAtFirstContact(winrmPeer, h.id, "request");
    expect((await getHostDetail(h.id))?.host.pinnedKeyPending).toBe(winrmCertificate());
    expect(await auditEvents("host.key_first_seen", h.name)).toHaveLength(1);

    await confirmHostKey(admin, { hostId: h.id, key: winrmCertificate() });
    const second = winrmPeer.mark();
    await audit(h.id);
    expect(events(second(), "request")).toContainEqual(expect.objectContaining({ method: "POST", path: "/wsman", authorization: "Basic" }));
  });

  it("explicit trust on first use sends the credential to the first certificate; a changed certificate is refused and audited before any request", async () => {
    const h = await labHost("winrm", { trustOnFirstUse: true });
    const first = winrmPeer.mark();
    await audit(h.id);
    expect(events(first(), "request")).toContainEqual(expect.objectContaining({ authorization: "Basic" }));
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).pinnedKey).toBe(winrmCertificate());

    // The pin is the certificate the lab made for this host, as if the listener's had been replaced.
    const labCertificate = new X509Certificate(readFileSync(winrmPeer.host.certificate.file)).fingerprint256.replace(/:/g, "").toLowerCase();
    await prisma.host.update({ where: { id: h.id }, data: { pinnedKey: labCertificate } });
    const seen = winrmPeer.mark();
    const changed = await audit(h.id);
    expect(changed.state).toBe("failed");
    expect(changed.error).toMatch(/WinRM certificate for winrm-\d+\.identity\.test .* changed/);
    expect(events(seen(), "request")).toEqual([]);
    const [mismatch] = await auditEvents("host.key_mismatch", h.name);
    expect(mismatch?.details).toMatchObject({ against: "pinned", presented: winrmCertificate().toUpperCase() });
  });

  it("WinRM over HTTP (5985) is refused unless an admin allowed it for the host, before anything is sent", async () => {
    // Nothing listens on the peer's 5985: the refusal comes before any connection.
    const h = await labHost("winrm", { trustOnFirstUse: true, port: 5985 });
    const seen = winrmPeer.mark();
    const task = await audit(h.id);
    expect(task.state).toBe("failed");
    expect(task.error).toMatch(/WinRM over HTTP \(port 5985\).*Allow WinRM over HTTP/);
    expect(seen()).toEqual([]);
  });
});
