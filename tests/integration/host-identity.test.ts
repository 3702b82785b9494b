// Credential custody and trust on first use at the wire (issue 9), through real config audit jobs
// run by an in-process worker: a fake SSH server (ssh2's Server) and a fake WinRM HTTPS listener
// (node:https) on 127.0.0.1, random ports, each recording whether any USERAUTH request / any
// Authorization header arrived. Both are test doubles that only follow the protocols far enough
// to see what a client sends (RFC 4252 5: every USERAUTH_REQUEST is an "authentication" event in
// ssh2's Server; HTTP Basic, RFC 7617: the Authorization header carries the password). Loopback is
// explicitly allowed in this file's allowed-targets setting (scanDatabase sets 127.0.0.1/32).
import { execFileSync } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Server as SshServer } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "@/agents/worker";
import { prisma } from "@/lib/db";
import { reloadEnv } from "@/lib/env";
import { createCredential } from "@/lib/credentials/service";
import { setCredentialScope } from "@/lib/credentials/scope";
import { confirmHostKey, setHostTrust } from "@/lib/hosts/host-keys";
import { createAuditJob } from "@/lib/jobs/audits";
import { selfSignedCertificate } from "../lab/peers/common";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor } from "./scan-support";

scanDatabase("host_identity");

const admin = { id: "00000000-0000-4000-8000-000000000001", email: "identity-tests@example.test" };

interface FakeSsh {
  port: number;
  fingerprint: string;
  connections: number;
  userauthRequests: number;
  close(): Promise<void>;
}

/** A host key made by OpenSSH's ssh-keygen, and its fingerprint as `ssh-keygen -lf` prints it. */
function opensshHostKey(): { pem: string; fingerprint: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "identity-ssh-"));
  try {
    const file = path.join(dir, "host_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "identity-test", "-f", file], { stdio: "ignore" });
    const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`], { encoding: "utf8" }).split(" ")[1]!;
    return { pem: readFileSync(file, "utf8"), fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Accepts every login (so a client that authenticates gets through) and refuses every channel. */
async function startFakeSsh(): Promise<FakeSsh> {
  const key = opensshHostKey();
  const state = { connections: 0, userauthRequests: 0 };
  const server = new SshServer({ hostKeys: [key.pem] }, (client) => {
    state.connections++;
    client.on("error", () => {});
    client.on("authentication", (ctx) => {
      state.userauthRequests++;
      ctx.accept();
    });
    client.on("ready", () => client.on("session", (_accept, reject) => reject()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    fingerprint: key.fingerprint,
    get connections() {
      return state.connections;
    },
    get userauthRequests() {
      return state.userauthRequests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface FakeWinRm {
  port: number;
  sha256: string;
  connections: number;
  httpRequests: number;
  authorizationHeaders: number;
  close(): Promise<void>;
}

/** Answers every request 401 with a Basic challenge (what WinRM says to a wrong password). */
async function startFakeWinRm(): Promise<FakeWinRm> {
  const { key, cert } = selfSignedCertificate("winrm.identity.test");
  const state = { connections: 0, httpRequests: 0, authorizationHeaders: 0 };
  const server = https.createServer({ key, cert }, (req, res) => {
    state.httpRequests++;
    if (req.headers.authorization) state.authorizationHeaders++;
    req.resume();
    res.writeHead(401, { "www-authenticate": 'Basic realm="WSMAN"', "content-length": "0" }).end();
  });
  // TCP connections: the first-contact read hangs up right after the handshake, sometimes before
  // the server side reports it complete.
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sha256: new X509Certificate(cert).fingerprint256.replace(/:/g, "").toLowerCase(),
    get connections() {
      return state.connections;
    },
    get httpRequests() {
      return state.httpRequests;
    },
    get authorizationHeaders() {
      return state.authorizationHeaders;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let worker: { stop(): Promise<void> } | undefined;
let sshA: FakeSsh;
let sshB: FakeSsh;
let winrm: FakeWinRm;
const credentialIds = { ssh: "", winrm: "" };

async function audit(hostId: string) {
  const { jobId } = await createAuditJob(testActor, { hostIds: [hostId] });
  await jobWhenTerminal(jobId, 120_000);
  return (await tasksOf(jobId)).find((t) => t.hostId === hostId)!;
}

async function auditEvents(action: string, hostName: string) {
  return prisma.auditEvent.findMany({ where: { action, target: `host:${hostName}` }, orderBy: { id: "asc" } });
}

let seq = 0;
/** A host as an admin sets it up: transport, port and credential; `trust` as the admin decided. */
async function sshHost(server: FakeSsh, opts: { trustOnFirstUse?: boolean } = {}) {
  const name = `ssh-${++seq}.identity.test`;
  const h = await makeHost("identity", "127.0.0.1", [{ port: 25 }], name);
  await prisma.host.update({ where: { id: h.id }, data: { transport: "ssh", port: server.port, credentialId: credentialIds.ssh } });
  if (opts.trustOnFirstUse) await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
  return { id: h.id, name };
}

async function winrmHost(opts: { trustOnFirstUse?: boolean } = {}) {
  const name = `win-${++seq}.identity.test`;
  const h = await makeHost("identity", "127.0.0.1", [{ port: 25 }], name);
  await prisma.host.update({ where: { id: h.id }, data: { platform: "windows", roles: ["exchange"], transport: "winrm", port: winrm.port, credentialId: credentialIds.winrm } });
  if (opts.trustOnFirstUse) await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
  return { id: h.id, name };
}

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  [sshA, sshB, winrm] = await Promise.all([startFakeSsh(), startFakeSsh(), startFakeWinRm()]);
  credentialIds.ssh = (await createCredential(admin, { name: "identity-ssh", kind: "ssh_password", username: "root", secret: "ssh-secret-never-to-strangers" })).id;
  credentialIds.winrm = (await createCredential(admin, { name: "identity-winrm", kind: "winrm_basic", username: "svc", secret: "winrm-secret-never-to-strangers" })).id;
  // As an admin would: both may be used for the loopback doubles, and nowhere else.
  for (const id of Object.values(credentialIds)) await setCredentialScope(admin, { credentialId: id, hosts: [], groups: [], cidrs: ["127.0.0.1/32"] });
  worker = await startWorker({ workerId: "identity-test-worker" });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.all([sshA?.close(), sshB?.close(), winrm?.close()]);
});

describe("credential scope", () => {
  it("SSH: a host outside the credential's scope gets no connection at all, the task says what an admin must do", async () => {
    const h = await sshHost(sshA, { trustOnFirstUse: true });
    const before = { connections: sshA.connections, userauth: sshA.userauthRequests };
    await setCredentialScope(admin, { credentialId: credentialIds.ssh, hosts: ["somewhere-else.identity.test"], groups: [], cidrs: [] });
    try {
      const task = await audit(h.id);
      expect(task.state).toBe("failed");
      expect(task.error).toMatch(/Credential "identity-ssh" may not be used for ssh-\d+\.identity\.test .*outside the credential's scope.*Settings > Credentials/);
      expect(sshA.connections).toBe(before.connections);
      expect(sshA.userauthRequests).toBe(before.userauth);
      expect(await auditEvents("audit.credential_out_of_scope", h.name)).toHaveLength(1);
    } finally {
      await setCredentialScope(admin, { credentialId: credentialIds.ssh, hosts: [], groups: [], cidrs: ["127.0.0.1/32"] });
    }
  });

  it("WinRM: an empty scope is usable nowhere: no connection, no Authorization header", async () => {
    const h = await winrmHost({ trustOnFirstUse: true });
    const before = { tls: winrm.connections, auth: winrm.authorizationHeaders };
    await setCredentialScope(admin, { credentialId: credentialIds.winrm, hosts: [], groups: [], cidrs: [] });
    try {
      const task = await audit(h.id);
      expect(task.state).toBe("failed");
      expect(task.error).toContain('Credential "identity-winrm" has no scope yet');
      expect(winrm.connections).toBe(before.tls);
      expect(winrm.authorizationHeaders).toBe(before.auth);
    } finally {
      await setCredentialScope(admin, { credentialId: credentialIds.winrm, hosts: [], groups: [], cidrs: ["127.0.0.1/32"] });
    }
  });
});

describe("trust on first use over SSH", () => {
  it("an unconfirmed key: the key is read, no USERAUTH request is sent, the key waits for an admin, and the task says so", async () => {
    const h = await sshHost(sshA);
    const before = { connections: sshA.connections, userauth: sshA.userauthRequests };
    const task = await audit(h.id);
    expect(task.state).toBe("failed");
    expect(task.error).toContain("confirm the key on the host page");
    expect(task.error).toContain(sshA.fingerprint);
    expect(sshA.connections).toBeGreaterThan(before.connections);
    expect(sshA.userauthRequests).toBe(before.userauth);
    const host = await prisma.host.findUniqueOrThrow({ where: { id: h.id } });
    expect(host).toMatchObject({ pinnedKey: null, pinnedKeyPending: sshA.fingerprint });
    expect(await auditEvents("host.key_first_seen", h.name)).toHaveLength(1);

    // A different key at the next contact is refused and audited; the first one stays pending.
    await prisma.host.update({ where: { id: h.id }, data: { port: sshB.port } });
    const beforeB = sshB.userauthRequests;
    const second = await audit(h.id);
    expect(second.state).toBe("failed");
    expect(second.error).toMatch(/differs from the one recorded at first contact/);
    expect(sshB.userauthRequests).toBe(beforeB);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).pinnedKeyPending).toBe(sshA.fingerprint);
    const [mismatch] = await auditEvents("host.key_mismatch", h.name);
    expect(mismatch?.details).toMatchObject({ against: "pending", expected: sshA.fingerprint, presented: sshB.fingerprint, recordedAsPending: false });

    // After the admin confirms the recorded key, the credential is offered to that key.
    await prisma.host.update({ where: { id: h.id }, data: { port: sshA.port } });
    await confirmHostKey(admin, { hostId: h.id, key: sshA.fingerprint });
    const third = await audit(h.id);
    expect(third.log).toContain("host key matches the pinned one");
    expect(sshA.userauthRequests).toBeGreaterThan(before.userauth);
  });

  it("explicit trust on first use: the first key is pinned before logging in, and a changed key is then refused without USERAUTH", async () => {
    const h = await sshHost(sshA, { trustOnFirstUse: true });
    const before = sshA.userauthRequests;
    const first = await audit(h.id);
    expect(first.log).toContain(`first contact: host key ${sshA.fingerprint} pinned`);
    expect(sshA.userauthRequests).toBeGreaterThan(before);
    const host = await prisma.host.findUniqueOrThrow({ where: { id: h.id } });
    expect(host).toMatchObject({ pinnedKey: sshA.fingerprint, pinnedKeyPending: null });
    expect(await auditEvents("host.key_pinned_first_use", h.name)).toHaveLength(1);

    await prisma.host.update({ where: { id: h.id }, data: { port: sshB.port } });
    const beforeB = sshB.userauthRequests;
    const changed = await audit(h.id);
    expect(changed.state).toBe("failed");
    expect(changed.error).toContain("Nothing was sent");
    expect(sshB.userauthRequests).toBe(beforeB);
    const after = await prisma.host.findUniqueOrThrow({ where: { id: h.id } });
    expect(after.pinnedKey).toBe(sshA.fingerprint);
    expect(after.pinnedKeyPending).toBe(sshB.fingerprint);
    const [mismatch] = await auditEvents("host.key_mismatch", h.name);
    expect(mismatch?.details).toMatchObject({ against: "pinned", presented: sshB.fingerprint, authenticationAttempted: false });
  });
});

describe("trust on first use over WinRM HTTPS", () => {
  it("an unconfirmed certificate: a connection for the handshake only, no HTTP request, no Authorization header", async () => {
    const h = await winrmHost();
    const before = { tls: winrm.connections, requests: winrm.httpRequests, auth: winrm.authorizationHeaders };
    const task = await audit(h.id);
    expect(task.state).toBe("failed");
    expect(task.error).toContain("confirm the key on the host page");
    expect(winrm.connections).toBeGreaterThan(before.tls);
    expect(winrm.httpRequests).toBe(before.requests);
    expect(winrm.authorizationHeaders).toBe(before.auth);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).pinnedKeyPending).toBe(winrm.sha256);

    await confirmHostKey(admin, { hostId: h.id, key: winrm.sha256 });
    await audit(h.id);
    expect(winrm.authorizationHeaders).toBeGreaterThan(before.auth);
  });

  it("explicit trust on first use sends the credential to the first certificate; a changed pin is refused before any request", async () => {
    const h = await winrmHost({ trustOnFirstUse: true });
    const before = winrm.authorizationHeaders;
    await audit(h.id);
    expect(winrm.authorizationHeaders).toBeGreaterThan(before);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).pinnedKey).toBe(winrm.sha256);

    // The pin is another certificate's now (as if the listener's certificate had been replaced).
    await prisma.host.update({ where: { id: h.id }, data: { pinnedKey: "ab".repeat(32) } });
    const beforeRequests = winrm.httpRequests;
    const changed = await audit(h.id);
    expect(changed.state).toBe("failed");
    expect(changed.error).toMatch(/WinRM certificate for win-\d+\.identity\.test .* changed/);
    expect(winrm.httpRequests).toBe(beforeRequests);
  });

  it("WinRM over HTTP (5985) is refused unless an admin allowed it for the host, before anything is sent", async () => {
    const h = await winrmHost({ trustOnFirstUse: true });
    // 5985 is only written into the host, never listened on or reached: the refusal comes first.
    await prisma.host.update({ where: { id: h.id }, data: { port: 5985 } });
    const task = await audit(h.id);
    expect(task.state).toBe("failed");
    expect(task.error).toMatch(/WinRM over HTTP \(port 5985\).*Allow WinRM over HTTP/);
  });
});
