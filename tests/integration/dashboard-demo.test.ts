// Demo inventory: loads only into an empty inventory, gives every host a HostStatus row and an
// audit event, and points at the lab fleet's real addresses when the lab manifest exists.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { purgeHosts } from "../support/purge-hosts";
import { reloadEnv } from "@/lib/env";
import { EXAMPLE_HOSTS, LAB_CREDENTIAL, seedDemoInventory } from "@/lib/inventory/demo";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("demo");

const NO_LAB = path.join(os.tmpdir(), "tlsfleet-no-such-lab", "fleet.json");

// A stand-in for the lab's client key: the credentials service only checks the PEM framing.
const FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZSBsYWIga2V5IGZvciB0ZXN0cw==\n-----END OPENSSH PRIVATE KEY-----\n";

// Credentials are encrypted with TLSFLEET_SECRET_KEY; give this file one of its own.
let previousKey: string | undefined;
beforeAll(() => {
  previousKey = process.env.TLSFLEET_SECRET_KEY;
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("hex");
  reloadEnv();
});
afterAll(() => {
  if (previousKey === undefined) delete process.env.TLSFLEET_SECRET_KEY;
  else process.env.TLSFLEET_SECRET_KEY = previousKey;
  reloadEnv();
});

function writeManifest(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfleet-demo-"));
  const file = path.join(dir, "fleet.json");
  const keyPath = path.join(dir, "lab_client_ed25519");
  fs.writeFileSync(keyPath, FAKE_KEY, { mode: 0o600 });
  const host = (name: string, address: string, roles: string[], kind: "server" | "peer", endpoints: Array<{ port: number; service: string; tls: string }>) => ({
    name,
    namespace: `tlsf-${name}`,
    address,
    roles,
    platform: "linux",
    kind,
    ssh: { port: 22, user: "root", keyPath: "/nonexistent", hostKeyFingerprint: "SHA256:voy/Bw5NakvjKxmMcsJKxc2RtrTrMRjOKUlcg9aa58c", hostKey: "ssh-ed25519 AAAA" },
    endpoints: endpoints.map((e) => ({ ...e, starttls: "offered", expected: {}, expectedVerdict: "compliant" })),
  });
  // The shape `npm run lab -- up` writes (tests/lab/fleet.ts), trimmed to what matters here.
  fs.writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      network: { bridge: "tlsf-br0", rootAddress: "198.18.0.1", prefix: "198.18.0.0/16" },
      ssh: { user: "root", keyPath, knownHostsPath: "/nonexistent", configPath: "/nonexistent" },
      hosts: [
        host("mx-legacy", "198.18.0.11", ["postfix"], "server", [{ port: 25, service: "smtp", tls: "starttls" }]),
        host("web-modern", "198.18.0.22", ["nginx"], "server", [{ port: 443, service: "https", tls: "implicit" }]),
        host("peer-garbage", "198.18.0.41", [], "peer", [{ port: 25, service: "smtp", tls: "starttls" }]),
      ],
    }),
  );
  return file;
}

describe("demo inventory", () => {
  beforeEach(async () => {
    await purgeHosts();
  });

  it("fills an empty inventory with example hosts that probe nothing real", async () => {
    const result = await seedDemoInventory({ labManifest: NO_LAB });
    expect(result).toMatchObject({ created: EXAMPLE_HOSTS.length, lab: false });
    expect(result.created).toBeGreaterThanOrEqual(10);
    const hosts = await prisma.host.findMany({ include: { status: true, endpoints: true } });
    expect(hosts).toHaveLength(EXAMPLE_HOSTS.length);
    for (const h of hosts) {
      expect(h.name).toMatch(/\.example\.test$/);
      expect(h.address).toMatch(/^198\.18\.200\.\d+$/);
      expect(h.status).toMatchObject({ status: "unknown", explanation: "Never scanned" });
      expect(h.endpoints.length).toBeGreaterThan(0);
      expect(h.tags).toContain("demo");
    }
    const event = await prisma.auditEvent.findFirst({ where: { action: "inventory.demo_seed" }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ actor: "system", target: `hosts:${EXAMPLE_HOSTS.length}` });
  });

  it("refuses when the inventory already has hosts, and changes nothing", async () => {
    await prisma.host.create({ data: { name: "real.example.test", address: "192.0.2.1", status: { create: { status: "unknown", explanation: "Never scanned" } } } });
    const result = await seedDemoInventory({ labManifest: NO_LAB, actor: { id: "00000000-0000-4000-8000-000000000001", email: "op@example.test" } });
    expect(result.created).toBe(0);
    expect(result.message).toMatch(/already has 1 host/);
    expect(await prisma.host.count()).toBe(1);
  });

  it("loads once when two requests race on an empty inventory", async () => {
    const [a, b] = await Promise.all([seedDemoInventory({ labManifest: NO_LAB }), seedDemoInventory({ labManifest: NO_LAB })]);
    expect([a.created, b.created].sort()).toEqual([0, EXAMPLE_HOSTS.length]);
    expect(await prisma.host.count()).toBe(EXAMPLE_HOSTS.length);
  });

  it("points at the lab hosts, their real addresses and endpoints, when the lab is up", async () => {
    await prisma.setting.deleteMany();
    await prisma.credential.deleteMany({ where: { name: LAB_CREDENTIAL } });
    const manifest = writeManifest();
    const result = await seedDemoInventory({ labManifest: manifest, actor: { id: "00000000-0000-4000-8000-000000000001", email: "op@example.test", role: "admin" } });
    expect(result).toMatchObject({ created: 3, lab: true });
    expect(result.message).toContain("198.18.0.0/16");
    const hosts = await prisma.host.findMany({ include: { status: true, endpoints: true }, orderBy: { address: "asc" } });
    expect(hosts.map((h) => [h.name, h.address, h.transport, h.endpoints.map((e) => `${e.port}/${e.service}/${e.tlsStart}`)])).toEqual([
      ["mx-legacy.lab.tlsfleet.test", "198.18.0.11", "ssh", ["25/smtp/starttls"]],
      ["web-modern.lab.tlsfleet.test", "198.18.0.22", "ssh", ["443/https/implicit"]],
      ["peer-garbage.lab.tlsfleet.test", "198.18.0.41", "none", ["25/smtp/starttls"]],
    ]);
    expect(hosts[0].pinnedKey).toBe("SHA256:voy/Bw5NakvjKxmMcsJKxc2RtrTrMRjOKUlcg9aa58c");
    // The lab's client key becomes an encrypted credential on the SSH hosts (config audits work);
    // the peers, which have no sshd, get none.
    const credential = await prisma.credential.findUnique({ where: { name: LAB_CREDENTIAL } });
    expect(credential).toMatchObject({ kind: "ssh_key", username: "root" });
    expect(credential!.secretEncrypted).not.toContain("PRIVATE KEY");
    expect(hosts.map((h) => h.credentialId)).toEqual([credential!.id, credential!.id, null]);
    expect(hosts.every((h) => h.status?.status === "unknown")).toBe(true);
    const event = await prisma.auditEvent.findFirst({ where: { action: "inventory.demo_seed" }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ actor: "op@example.test", actorId: "00000000-0000-4000-8000-000000000001" });
    // Scans only probe allowed targets: the lab's range was added, and that change was audited.
    const allowed = await prisma.setting.findUnique({ where: { key: "allowedTargets" } });
    expect(allowed?.value).toContain("198.18.0.0/16");
    expect(await prisma.auditEvent.findFirst({ where: { action: "settings.update", target: "setting:allowedTargets" } })).toMatchObject({ actor: "op@example.test" });
  });

  it("an operator's demo loads the hosts but changes no admin-only setting and creates no credential", async () => {
    await prisma.setting.deleteMany();
    await prisma.credential.deleteMany({ where: { name: LAB_CREDENTIAL } });
    const before = await prisma.auditEvent.count({ where: { action: "settings.update" } });
    const operator = { id: "00000000-0000-4000-8000-000000000002", email: "operator@example.test", role: "operator" as const };
    const result = await seedDemoInventory({ labManifest: writeManifest(), actor: operator });
    expect(result).toMatchObject({ created: 3, lab: true });
    expect(result.message).toMatch(/An admin must first add 198\.18\.0\.0\/16 to the allowed targets in Settings > Scans and create the lab's SSH credential/);
    expect(await prisma.setting.findUnique({ where: { key: "allowedTargets" } })).toBeNull();
    expect(await prisma.auditEvent.count({ where: { action: "settings.update" } })).toBe(before);
    expect(await prisma.credential.findUnique({ where: { name: LAB_CREDENTIAL } })).toBeNull();
    expect((await prisma.host.findMany()).every((h) => h.credentialId === null)).toBe(true);
  });

  it("a viewer-shaped actor without a role is not an admin either", async () => {
    await prisma.setting.deleteMany();
    const result = await seedDemoInventory({ labManifest: writeManifest(), actor: { id: "00000000-0000-4000-8000-000000000003", email: "norole@example.test" } });
    expect(result.created).toBe(3);
    expect(await prisma.setting.findUnique({ where: { key: "allowedTargets" } })).toBeNull();
  });

  it("never widens the allowed targets beyond the lab's benchmarking range", async () => {
    await prisma.setting.deleteMany();
    const manifest = writeManifest();
    fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace("198.18.0.0/16", "0.0.0.0/0"));
    const result = await seedDemoInventory({ labManifest: manifest });
    expect(result.lab).toBe(true);
    expect(await prisma.setting.findUnique({ where: { key: "allowedTargets" } })).toBeNull();
  });

  it("falls back to the example hosts when the lab manifest is unreadable", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfleet-demo-"));
    fs.writeFileSync(path.join(dir, "fleet.json"), "{ not json");
    const result = await seedDemoInventory({ labManifest: path.join(dir, "fleet.json") });
    expect(result).toMatchObject({ created: EXAMPLE_HOSTS.length, lab: false });
  });
});
