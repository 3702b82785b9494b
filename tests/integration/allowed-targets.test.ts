// Allowed targets at connect time (issue 9) where the database is involved: the drift webhook
// (its URL and the allowed targets are Settings), opening a credentialed session to a host, and
// allowed-target lists stored before the stricter syntax. Forbidden targets are loopback
// (127.0.0.1, with recorders that count every connection) or a lab address (198.18.5.77); the
// allowed receivers listen on 127.0.0.2, which the lists name explicitly.
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openHostSession, TargetRefusedError, type HostConnection } from "@/agents/transport/open-session";
import { createCredential } from "@/lib/credentials/service";
import { notifyDrift, type StatusUpdate } from "@/lib/compliance/update";
import { prisma } from "@/lib/db";
import { reloadEnv } from "@/lib/env";
import { updateScanSettings } from "@/lib/jobs/schedule";
import { logger } from "@/lib/log";
import { effectiveAllowList, getSetting, setSetting, storedAllowedTargets } from "@/lib/settings";
import { parseAllowList } from "@/lib/tls/allowlist";
import type { Resolver } from "@/lib/tls/connect-target";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("allowed_targets");

const admin = { id: null, email: "allowlist-tests@example.test" };
const ALLOWED = ["allowed.example", "198.18.0.0/24", "127.0.0.2/32"];

function counted(...addresses: string[]): Resolver & { calls: number } {
  const r = Object.assign(
    async () => {
      r.calls++;
      return addresses;
    },
    { calls: 0 },
  );
  return r;
}

/** First an allowed address, then loopback: a DNS-rebinding attacker's resolver. */
function rebinding(): Resolver & { calls: number } {
  const r = Object.assign(
    async () => {
      r.calls++;
      return r.calls === 1 ? ["127.0.0.2"] : ["127.0.0.1"];
    },
    { calls: 0 },
  );
  return r;
}

interface Listener {
  port: number;
  connections: number;
  hostHeaders: string[];
  close(): Promise<void>;
}

/** An HTTP server that answers 204 and records each connection and Host header. */
function listen(address: string, port: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const hostHeaders: string[] = [];
    let connections = 0;
    const server = http.createServer((req, res) => {
      hostHeaders.push(req.headers.host ?? "");
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    server.on("connection", (s: net.Socket) => {
      connections++;
      s.on("error", () => undefined);
    });
    server.once("error", reject);
    server.listen(port, address, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        get connections() {
          return connections;
        },
        hostHeaders,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}

let allowed: Listener;
let forbidden: Listener;
beforeAll(async () => {
  for (let attempt = 0; ; attempt++) {
    allowed = await listen("127.0.0.2", 0);
    try {
      forbidden = await listen("127.0.0.1", allowed.port);
      break;
    } catch (e) {
      await allowed.close();
      if (attempt > 5) throw e;
    }
  }
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  await setSetting(admin, "allowedTargets", ALLOWED);
});
afterAll(async () => {
  await allowed?.close();
  await forbidden?.close();
});

const drift: StatusUpdate = { hostId: "00000000-0000-4000-8000-0000000000aa", hostName: "mx1.allowed.example", previous: "compliant", status: "noncompliant", explanation: "TLS 1.0 accepted", changed: true, drift: true };

describe("the drift webhook", () => {
  const url = () => `http://hook.allowed.example:${allowed.port}/drift?token=not-logged`;

  it.each([
    ["loopback", "127.0.0.1"],
    ["a lab address outside the allowed ranges", "198.18.5.77"],
  ])("is refused when its name under the allowed suffix resolves to %s", async (_what, address) => {
    await setSetting(admin, "driftWebhookUrl", url());
    const warn = vi.spyOn(logger, "warn");
    const before = { allowed: allowed.connections, forbidden: forbidden.connections };
    const resolver = counted(address);
    await notifyDrift(drift, { resolver });
    expect(resolver.calls).toBe(1);
    expect({ allowed: allowed.connections, forbidden: forbidden.connections }).toEqual(before);
    const refusal = warn.mock.calls.find((c) => c[1] === "drift webhook refused: its address is not an allowed target");
    expect(refusal?.[0]).toMatchObject({ reason: expect.stringContaining(`it resolves to ${address}`) });
    expect(JSON.stringify(warn.mock.calls)).not.toContain("not-logged");
    warn.mockRestore();
  });

  it("posts to the address it checked, with the name in Host, however the name resolves next", async () => {
    await setSetting(admin, "driftWebhookUrl", url());
    const before = { allowed: allowed.connections, forbidden: forbidden.connections };
    const resolver = rebinding();
    await notifyDrift(drift, { resolver });
    expect(resolver.calls).toBe(1);
    expect(allowed.connections).toBe(before.allowed + 1);
    expect(allowed.hostHeaders.at(-1)).toBe(`hook.allowed.example:${allowed.port}`);
    expect(forbidden.connections).toBe(before.forbidden);
  });

  it("is refused at 127.0.0.1 given as an address (loopback, and the database host here)", async () => {
    await setSetting(admin, "driftWebhookUrl", `http://127.0.0.1:${forbidden.port}/drift`);
    const before = forbidden.connections;
    await notifyDrift(drift);
    expect(forbidden.connections).toBe(before);
  });
});

describe("openHostSession", () => {
  const credentialAdmin = { id: "00000000-0000-4000-8000-000000000001", email: admin.email };
  const credentialIds: Record<"ssh" | "winrm", string> = { ssh: "", winrm: "" };
  beforeAll(async () => {
    credentialIds.ssh = (await createCredential(credentialAdmin, { name: `allowlist-ssh-${Date.now()}`, kind: "ssh_password", username: "root", secret: "never-offered" })).id;
    credentialIds.winrm = (await createCredential(credentialAdmin, { name: `allowlist-winrm-${Date.now()}`, kind: "winrm_ntlm", username: "svc", secret: "never-offered" })).id;
    // As an admin would: the credentials may be used for mx1 (docs/security.md "Credential scope").
    await prisma.credential.updateMany({ where: { id: { in: Object.values(credentialIds) } }, data: { scopeHosts: ["mx1"] } });
  });
  const host = (transport: "ssh" | "winrm"): HostConnection => ({
    id: "00000000-0000-4000-8000-0000000000a1",
    name: "mx1",
    group: null,
    address: "x.allowed.example",
    platform: transport === "ssh" ? "linux" : "windows",
    transport,
    port: allowed.port,
    credentialId: credentialIds[transport],
    pinnedKey: null,
    pinnedKeyPending: null,
    pinnedAt: null,
    trustOnFirstUse: false,
    allowWinrmHttp: false,
    legacyTls: false,
  });

  it.each(["ssh", "winrm"] as const)("%s: refuses a name under the allowed suffix that resolves to loopback, before anything is sent", async (transport) => {
    const before = forbidden.connections;
    const err = await openHostSession(host(transport), { allowList: parseAllowList(ALLOWED), resolver: counted("127.0.0.1"), connectTimeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetRefusedError);
    expect(err).toMatchObject({ address: "127.0.0.1", code: "config" });
    expect((err as Error).message).toMatch(/mx1 \(x\.allowed\.example:\d+\) is outside the allowed targets \(Settings > Scans\): 127\.0\.0\.1, which is outside the allowed target ranges/);
    expect(forbidden.connections).toBe(before);
  });

  it("refuses a lab address outside the allowed ranges", async () => {
    const err = await openHostSession(host("ssh"), { allowList: parseAllowList(ALLOWED), resolver: counted("198.18.5.77"), connectTimeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetRefusedError);
    expect(err).toMatchObject({ address: "198.18.5.77" });
  });

  it.each(["ssh", "winrm"] as const)("%s: resolves once and connects only to the checked address (DNS rebinding)", async (transport) => {
    const before = { allowed: allowed.connections, forbidden: forbidden.connections };
    const resolver = rebinding();
    // The listener is no sshd and no WinRM: the session fails after connecting, which is enough.
    await openHostSession(host(transport), { allowList: parseAllowList(ALLOWED), resolver, connectTimeoutMs: 3_000 }).catch(() => undefined);
    expect(resolver.calls).toBe(1);
    expect(allowed.connections).toBeGreaterThan(before.allowed);
    expect(forbidden.connections).toBe(before.forbidden);
  });
});

describe("the allowed-targets setting", () => {
  it.each([
    ["10", /10: a DNS suffix cannot end in a number/],
    ["192.168.1", /192\.168\.1: a DNS suffix cannot end in a number/],
    ["::/0", /::\/0: this IPv6 range covers ::ffff:0:0\/96/],
    ["::ffff:0:0/96", /covers ::ffff:0:0\/96/],
  ])("refuses '%s' with a message that says why", async (entry, message) => {
    const stored = await storedAllowedTargets();
    await expect(updateScanSettings(admin, { rescanSchedule: "off", driftWebhookUrl: "", allowedTargets: `198.18.0.0/24\n${entry}` })).rejects.toThrow(message);
    expect(await storedAllowedTargets()).toEqual(stored);
  });

  it("a list stored before the stricter rules keeps its valid entries and never falls back to the environment's", async () => {
    const previousEnv = process.env.TLSFLEET_ALLOWED_TARGETS;
    process.env.TLSFLEET_ALLOWED_TARGETS = "0.0.0.0/0";
    reloadEnv();
    try {
      await prisma.setting.update({ where: { key: "allowedTargets" }, data: { value: ["10", "198.18.0.0/24", "::/0"] } });
      expect((await effectiveAllowList())?.list.entries).toEqual(["198.18.0.0/24"]);
      // The settings page shows what is stored, so the admin sees the entries to fix.
      expect(await storedAllowedTargets()).toEqual(["10", "198.18.0.0/24", "::/0"]);
      expect(await getSetting("allowedTargets")).toEqual([]);
    } finally {
      if (previousEnv === undefined) delete process.env.TLSFLEET_ALLOWED_TARGETS;
      else process.env.TLSFLEET_ALLOWED_TARGETS = previousEnv;
      reloadEnv();
      await setSetting(admin, "allowedTargets", ALLOWED);
    }
  });
});
