import "server-only";
// "Load demo inventory" (Overview empty state, `tlsfleet start --demo`): fills an EMPTY inventory
// so a new user sees the product work. With the lab fleet up (tests/lab/.state/fleet.json, written
// by `npm run lab -- up`) the demo is the lab's hosts at their real addresses, so a scan shows real
// results; otherwise a dozen example hosts under example.test with addresses in 198.18.200.0/24
// (RFC 2544 benchmarking space, away from the lab's 198.18.0.0/24), which nothing real answers.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import { endpointSpec, serviceForPort, type EndpointSpec } from "./model";
import { SERVICES, type Service } from "../tls/types";
import { isTargetAllowed, parseAllowList } from "../tls/allowlist";
import { effectiveAllowList, setSetting } from "../settings";
import { can } from "../auth/roles";
import { SYSTEM_ACTOR, type Actor } from "../auth/actor";
import { setCredentialScope } from "../credentials/scope";
import { createCredential } from "../credentials/service";
import { isAppError } from "../errors";

export interface DemoSeedResult {
  created: number;
  message: string;
  lab: boolean;
}

interface DemoHost {
  name: string;
  address: string;
  platform: "windows" | "linux" | "other";
  roles: string[];
  tags: string[];
  group: string;
  owner: string;
  transport: "ssh" | "winrm" | "none";
  port: number | null;
  pinnedKey: string | null;
  osName: string | null;
  endpoints: EndpointSpec[];
}

const ep = (port: number, service?: Service) => endpointSpec(port, service ?? serviceForPort(port));

/** A small but realistic mixed fleet: Exchange and IIS on Windows, Postfix, nginx and Dovecot on Linux. */
export const EXAMPLE_HOSTS: DemoHost[] = [
  { name: "ex01.example.test", address: "198.18.200.11", platform: "windows", roles: ["exchange"], tags: ["prod", "mail"], group: "HQ mail", owner: "messaging@example.test", transport: "winrm", port: 5986, pinnedKey: null, osName: "Windows Server 2016", endpoints: [ep(25), ep(587)] },
  { name: "ex02.example.test", address: "198.18.200.12", platform: "windows", roles: ["exchange"], tags: ["prod", "mail"], group: "HQ mail", owner: "messaging@example.test", transport: "winrm", port: 5986, pinnedKey: null, osName: "Windows Server 2019", endpoints: [ep(25), ep(587)] },
  { name: "ex-hybrid.example.test", address: "198.18.200.13", platform: "windows", roles: ["exchange"], tags: ["prod", "mail", "hybrid"], group: "HQ mail", owner: "messaging@example.test", transport: "winrm", port: 5986, pinnedKey: null, osName: "Windows Server 2012 R2", endpoints: [ep(25)] },
  { name: "mx-edge1.example.test", address: "198.18.200.21", platform: "linux", roles: ["postfix"], tags: ["prod", "mail", "dmz"], group: "DMZ", owner: "mail-ops@example.test", transport: "ssh", port: 22, pinnedKey: null, osName: "Debian 12", endpoints: [ep(25)] },
  { name: "mx-edge2.example.test", address: "198.18.200.22", platform: "linux", roles: ["postfix"], tags: ["prod", "mail", "dmz"], group: "DMZ", owner: "mail-ops@example.test", transport: "ssh", port: 22, pinnedKey: null, osName: "Debian 11", endpoints: [ep(25)] },
  { name: "relay-branch.example.test", address: "198.18.200.23", platform: "linux", roles: ["postfix"], tags: ["branch", "mail"], group: "Branch offices", owner: "it-branch@example.test", transport: "ssh", port: 22, pinnedKey: null, osName: "Ubuntu 20.04", endpoints: [ep(25), ep(587)] },
  { name: "imap1.example.test", address: "198.18.200.31", platform: "linux", roles: ["dovecot"], tags: ["prod", "mail"], group: "HQ mail", owner: "mail-ops@example.test", transport: "ssh", port: 22, pinnedKey: null, osName: "Debian 12", endpoints: [ep(143), ep(993)] },
  { name: "www.example.test", address: "198.18.200.41", platform: "linux", roles: ["nginx"], tags: ["prod", "web", "dmz"], group: "DMZ", owner: "web@example.test", transport: "ssh", port: 22, pinnedKey: null, osName: "Debian 12", endpoints: [ep(443)] },
  { name: "intranet.example.test", address: "198.18.200.42", platform: "windows", roles: ["iis"], tags: ["prod", "web"], group: "HQ apps", owner: "apps@example.test", transport: "winrm", port: 5986, pinnedKey: null, osName: "Windows Server 2016", endpoints: [ep(443)] },
  { name: "owa.example.test", address: "198.18.200.43", platform: "windows", roles: ["iis", "exchange"], tags: ["prod", "web", "mail"], group: "HQ mail", owner: "messaging@example.test", transport: "winrm", port: 5986, pinnedKey: null, osName: "Windows Server 2019", endpoints: [ep(443)] },
  { name: "ldap1.example.test", address: "198.18.200.51", platform: "linux", roles: ["other"], tags: ["prod", "directory"], group: "HQ apps", owner: "identity@example.test", transport: "none", port: null, pinnedKey: null, osName: null, endpoints: [ep(636, "ldaps")] },
  { name: "legacy-app.example.test", address: "198.18.200.61", platform: "windows", roles: ["iis"], tags: ["legacy", "web"], group: "Branch offices", owner: "it-branch@example.test", transport: "winrm", port: 5985, pinnedKey: null, osName: "Windows Server 2008 R2", endpoints: [ep(443)] },
];

// The parts of the lab manifest (tests/lab/fleet.ts validates all of it) the demo relies on.
const LabManifest = z.object({
  network: z.object({ prefix: z.string() }),
  ssh: z.object({ user: z.string(), keyPath: z.string() }).optional(),
  hosts: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z0-9-]+$/),
        address: z.string(),
        roles: z.array(z.string()),
        kind: z.enum(["server", "peer"]),
        ssh: z.object({ port: z.number().int(), hostKeyFingerprint: z.string() }).partial().optional(),
        endpoints: z.array(z.object({ port: z.number().int().min(1).max(65535), service: z.enum(SERVICES), tls: z.enum(["starttls", "implicit"]) })).min(1),
      }),
    )
    .min(1),
});

export const LAB_DOMAIN = "lab.tlsfleet.test";

/** The lab fleet as demo hosts, or null when the lab is not up (no manifest) or the manifest is unreadable. */
export function labDemoHosts(manifestPath: string): { hosts: DemoHost[]; prefix: string; ssh: { user: string; keyPath: string } | null } | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  } catch {
    return null;
  }
  const parsed = LabManifest.safeParse(raw);
  if (!parsed.success) return null;
  const hosts = parsed.data.hosts.map((h): DemoHost => {
    const server = h.kind === "server";
    const web = h.roles.includes("nginx");
    return {
      name: `${h.name}.${LAB_DOMAIN}`,
      address: h.address,
      platform: "linux",
      roles: h.roles,
      tags: ["lab", server ? (web ? "web" : "mail") : "misbehaving-peer"],
      group: server ? (web ? "Lab web" : "Lab mail") : "Lab peers",
      owner: "lab@tlsfleet.test",
      // Peers are one-port impostors with no sshd; the servers are reached over SSH as root.
      transport: server ? "ssh" : "none",
      port: server ? (h.ssh?.port ?? 22) : null,
      // The lab generated these host keys itself, so pinning them up front is safe.
      pinnedKey: server ? (h.ssh?.hostKeyFingerprint ?? null) : null,
      osName: server ? "Debian, lab namespace" : null,
      endpoints: h.endpoints.map((e) => ({ port: e.port, service: e.service, tlsStart: e.tls })),
    };
  });
  return { hosts, prefix: parsed.data.network.prefix, ssh: parsed.data.ssh ?? null };
}

export const LAB_CREDENTIAL = "lab-root-ssh";

/**
 * The lab's SSH client key as a credential, so config audits of the lab hosts work from the demo.
 * Created through the credentials service (encrypted at rest, audited); reused when it exists.
 * Null when the key file is unreadable or no encryption key is configured: the demo then works
 * for scans only, and says so.
 */
async function labCredential(ssh: { user: string; keyPath: string } | null, prefix: string, actor: Actor): Promise<{ id: string } | null> {
  if (!ssh) return null;
  const existing = await prisma.credential.findUnique({ where: { name: LAB_CREDENTIAL }, select: { id: true } });
  if (existing) return existing;
  let secret: string;
  try {
    secret = fs.readFileSync(ssh.keyPath, "utf8");
  } catch {
    return null;
  }
  try {
    // `tlsfleet start --demo` acts as "system", which has no user id; the audit event takes null.
    const created = await createCredential(actor, { name: LAB_CREDENTIAL, kind: "ssh_key", username: ssh.user, secret });
    // Usable for the lab's own range only (docs/security.md "Credential scope"), audited.
    await setCredentialScope(actor, { credentialId: created.id, hosts: [], groups: [], cidrs: isLabPrefix(prefix) ? [prefix] : [] });
    return created;
  } catch (err) {
    if (isAppError(err)) return null;
    throw err;
  }
}

// The lab lives in RFC 2544 benchmarking space; a manifest naming any other range is not the lab's,
// and the demo never widens the allowed targets beyond it.
const LAB_SPACE = parseAllowList(["198.18.0.0/15"]);

function isLabPrefix(prefix: string): boolean {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(prefix);
  return Boolean(m && Number(m[2]) >= 15 && isTargetAllowed(m[1], LAB_SPACE));
}

export const DEFAULT_LAB_MANIFEST = path.join(process.cwd(), "tests", "lab", ".state", "fleet.json");

// One demo seeding at a time: two clicks on "Load demo inventory" must not both see an empty table.
const DEMO_LOCK_KEY = 7_351_002;

export async function seedDemoInventory(opts: { actor?: Actor; labManifest?: string } = {}): Promise<DemoSeedResult> {
  const lab = labDemoHosts(opts.labManifest ?? DEFAULT_LAB_MANIFEST);
  const hosts = lab?.hosts ?? EXAMPLE_HOSTS;
  // Loading demo hosts is an operator's action (hosts.write), but the allowed targets and the
  // credentials are an admin's: an operator's demo changes neither, it says what an admin would
  // do. No actor is `tlsfleet start --demo`, run by whoever owns the install.
  const asAdmin = !opts.actor || can(opts.actor.role, "settings.manage");
  const mayCreateCredential = !opts.actor || can(opts.actor.role, "credentials.manage");
  // Probes only go where the allowed targets (Settings > Scans, or TLSFLEET_ALLOWED_TARGETS) say. A lab demo
  // that scans into "target not allowed" shows nothing, so an admin's demo adds the lab's own
  // range, audited.
  const allowed = lab ? await effectiveAllowList() : null;
  const needsLabRange = Boolean(lab && isLabPrefix(lab.prefix) && !(allowed && hosts.every((h) => isTargetAllowed(h.address, allowed.list))));
  const widenTo = lab && needsLabRange && asAdmin ? [...(allowed?.list.entries ?? []), lab.prefix] : null;
  const refusal = (n: number): DemoSeedResult => ({ created: 0, lab: false, message: `The inventory already has ${n} host${n === 1 ? "" : "s"}; demo data is only loaded into an empty inventory` });
  // Checked again under the lock below; this early look keeps a refused request free of side effects.
  const before = await prisma.host.count({ where: { retiredAt: null } });
  if (before > 0) return refusal(before);
  const actor = opts.actor ?? SYSTEM_ACTOR;
  const credential = lab && mayCreateCredential ? await labCredential(lab.ssh, lab.prefix, actor) : null;
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DEMO_LOCK_KEY})`;
    const existing = await tx.host.count({ where: { retiredAt: null } });
    if (existing > 0) return refusal(existing);
    const now = new Date();
    for (const h of hosts) {
      await tx.host.create({
        data: {
          name: h.name,
          address: h.address,
          platform: h.platform,
          roles: h.roles,
          tags: [...h.tags, "demo"],
          group: h.group,
          owner: h.owner,
          transport: h.transport,
          port: h.port,
          pinnedKey: h.pinnedKey,
          pinnedAt: h.pinnedKey ? now : null,
          credentialId: h.transport === "ssh" && credential ? credential.id : null,
          osName: h.osName,
          endpoints: { create: h.endpoints.map((e) => ({ port: e.port, service: e.service, tlsStart: e.tlsStart })) },
          status: { create: { status: "unknown", explanation: "Never scanned", lastChangedAt: now } },
        },
      });
    }
    if (widenTo) await setSetting(actor, "allowedTargets", widenTo, tx);
    const endpoints = hosts.reduce((n, h) => n + h.endpoints.length, 0);
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "inventory.demo_seed",
      target: `hosts:${hosts.length}`,
      details: { lab: Boolean(lab), names: hosts.map((h) => h.name) },
    });
    const adminSteps = [
      ...(needsLabRange && !widenTo ? [`add ${lab?.prefix ?? ""} to the allowed targets in Settings > Scans`] : []),
      ...(lab?.ssh && !mayCreateCredential ? [`create the lab's SSH credential (${LAB_CREDENTIAL}) for config audits`] : []),
    ];
    const message = lab
      ? `Loaded ${hosts.length} lab hosts (${endpoints} endpoints) at their real addresses in ${lab.prefix}${widenTo ? ` (added ${lab.prefix} to the allowed targets)` : ""}: scan them to see real results${credential ? `; config audits use the credential ${LAB_CREDENTIAL}` : ""}${adminSteps.length ? `. An admin must first ${adminSteps.join(" and ")}` : ""}`
      : `Loaded ${hosts.length} example hosts (${endpoints} endpoints) under example.test; their addresses (198.18.200.0/24) answer nothing, so scans report them unreachable. Start the lab (npm run lab -- up) for hosts that answer`;
    return { created: hosts.length, lab: Boolean(lab), message };
    // Dozens of hosts, endpoints and audit events in one transaction: Prisma's 5 s default
    // expired on a loaded 2-core machine (CI) and the demo failed with nothing loaded.
  }, { timeout: 60_000, maxWait: 15_000 });
}
