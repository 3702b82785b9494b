// Who may point a credential where (docs/security.md "Credential scope"), against the real
// database: host edits and the CSV import as an operator and as an admin, the scope check when a
// credential is attached, and the audit trail per host. The addresses (192.0.2.0/24, TEST-NET-1)
// are data only: nothing in this file connects anywhere.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { reloadEnv } from "@/lib/env";
import { setCredentialScope } from "@/lib/credentials/scope";
import { createCredential } from "@/lib/credentials/service";
import { setHostTrust } from "@/lib/hosts/host-keys";
import { createHost, updateHost } from "@/lib/inventory/hosts";
import { commitImport, ImportRejectedError, previewImport, sha256Hex } from "@/lib/inventory/import";
import { HostInput, type HostInputValue } from "@/lib/inventory/model";
import { withOwnDatabase } from "./dashboard-fixtures";

withOwnDatabase("custody");

const admin = { id: randomUUID(), email: "custody-admin@example.test", role: "admin" as const };
const operator = { id: randomUUID(), email: "custody-operator@example.test", role: "operator" as const };
const HEADER = "name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints";
const csv = (lines: string[]) => [HEADER, ...lines].join("\r\n") + "\r\n";
const commit = (actor: typeof admin | typeof operator, text: string) => commitImport(actor, text, sha256Hex(Buffer.from(text)));

const input = (over: Partial<Record<string, unknown>>): HostInputValue =>
  HostInput.parse({ name: "mx1.custody.test", address: "192.0.2.10", platform: "linux", roles: "postfix", transport: "ssh", port: 22, ...over });

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  for (const name of ["dmz-root", "other-root"]) {
    const { id } = await createCredential(admin, { name, kind: "ssh_password", username: "root", secret: "not-used-here" });
    await setCredentialScope(admin, { credentialId: id, hosts: name === "dmz-root" ? ["named.custody.test"] : [], groups: name === "dmz-root" ? ["DMZ"] : [], cidrs: name === "dmz-root" ? ["192.0.2.0/28"] : ["192.0.2.128/25"] });
  }
});

async function events(action: string, target: string) {
  return prisma.auditEvent.findMany({ where: { action, target }, orderBy: { id: "asc" } });
}

describe("attaching a credential", () => {
  it("an admin attaches one inside its scope (by range, group or name); outside it is refused with what to do", async () => {
    await createHost(admin, input({ name: "by-range.custody.test", credentialName: "dmz-root" }));
    await createHost(admin, input({ name: "by-group.custody.test", address: "192.0.2.200", group: "DMZ", credentialName: "dmz-root" }));
    await createHost(admin, input({ name: "named.custody.test", address: "mail.example.test", credentialName: "dmz-root" }));
    await expect(createHost(admin, input({ name: "outside.custody.test", address: "192.0.2.99", credentialName: "dmz-root" }))).rejects.toThrow(
      /Credential "dmz-root" may not be used for outside\.custody\.test \(192\.0\.2\.99\): it is outside the credential's scope; an admin can widen the scope in Settings > Credentials/,
    );
    expect(await prisma.host.count({ where: { name: "outside.custody.test" } })).toBe(0);
  });

  it("an operator never attaches one, not even inside the scope", async () => {
    await expect(createHost(operator, input({ name: "op-new.custody.test", credentialName: "dmz-root" }))).rejects.toThrow(/Only an admin attaches a credential/);
    const bare = await createHost(operator, input({ name: "op-bare.custody.test" }));
    await expect(updateHost(operator, bare.id, input({ name: "op-bare.custody.test", credentialName: "dmz-root" }))).rejects.toThrow(/Only an admin attaches a credential/);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: bare.id } })).credentialId).toBeNull();
  });
});

describe("changing a credentialed host", () => {
  it.each([
    ["address", { address: "192.0.2.11" }],
    ["port", { port: 2222 }],
    ["transport", { transport: "winrm", port: 5986 }],
    ["credential", { credentialName: "other-root" }],
  ])("an operator changing the %s drops the credential and the pin; audited per host", async (field, change) => {
    const name = `op-${field}.custody.test`;
    const h = await createHost(admin, input({ name, credentialName: "dmz-root" }));
    await prisma.host.update({ where: { id: h.id }, data: { pinnedKey: "SHA256:pinned", pinnedAt: new Date() } });
    await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
    const updated = await updateHost(operator, h.id, input({ name, credentialName: "dmz-root", ...change }));
    expect(updated.credentialDropped).toBe(true);
    const after = await prisma.host.findUniqueOrThrow({ where: { id: h.id } });
    expect(after.credentialId).toBeNull();
    if (field !== "credential") expect(after).toMatchObject({ pinnedKey: null, pinnedKeyPending: null, trustOnFirstUse: false });
    const [event] = await events("host.update", `host:${name}`);
    expect(event?.details).toMatchObject({ custody: { changed: expect.arrayContaining([field === "credential" ? "credential" : field]) as unknown, credentialDropped: true, before: { credentialName: "dmz-root" } } });
  });

  it("an operator editing anything else keeps the credential", async () => {
    const h = await createHost(admin, input({ name: "op-owner.custody.test", credentialName: "dmz-root" }));
    const updated = await updateHost(operator, h.id, input({ name: "op-owner.custody.test", owner: "mail team", credentialName: "dmz-root" }));
    expect(updated.credentialDropped).toBe(false);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).credentialId).not.toBeNull();
  });

  it("an admin moves a credentialed host inside the scope (pin reset), not outside it", async () => {
    const h = await createHost(admin, input({ name: "adm-move.custody.test", credentialName: "dmz-root" }));
    await prisma.host.update({ where: { id: h.id }, data: { pinnedKey: "SHA256:pinned", pinnedAt: new Date() } });
    await updateHost(admin, h.id, input({ name: "adm-move.custody.test", address: "192.0.2.12", credentialName: "dmz-root" }));
    expect(await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).toMatchObject({ address: "192.0.2.12", pinnedKey: null });
    await expect(updateHost(admin, h.id, input({ name: "adm-move.custody.test", address: "192.0.2.77", credentialName: "dmz-root" }))).rejects.toThrow(/outside the credential's scope/);
    expect((await prisma.host.findUniqueOrThrow({ where: { id: h.id } })).address).toBe("192.0.2.12");
  });
});

describe("CSV import", () => {
  it("an operator's import drops the credential of every host whose address, transport, port or credential it changes, and the audit event names them", async () => {
    const first = csv([
      "imp-a.custody.test,192.0.2.1,linux,postfix,,,,ssh,22,dmz-root,",
      "imp-b.custody.test,192.0.2.2,linux,postfix,,,,ssh,22,dmz-root,",
      "imp-c.custody.test,192.0.2.3,linux,postfix,,,,ssh,22,dmz-root,",
      "imp-d.custody.test,192.0.2.4,linux,postfix,,,,ssh,22,dmz-root,",
    ]);
    expect(await commit(admin, first)).toMatchObject({ created: 4 });
    await prisma.host.updateMany({ where: { name: { startsWith: "imp-" } }, data: { pinnedKey: "SHA256:pinned", pinnedAt: new Date() } });

    const second = csv([
      "imp-a.custody.test,192.0.2.9,linux,postfix,,,,ssh,22,dmz-root,", // address
      "imp-b.custody.test,192.0.2.2,linux,postfix,,,,ssh,2222,dmz-root,", // port
      "imp-c.custody.test,192.0.2.3,linux,postfix,,,,ssh,22,,", // credential removed
      "imp-d.custody.test,192.0.2.4,linux,postfix,prod,,,ssh,22,dmz-root,", // tags only
    ]);
    // The preview says so first, per row, with what to do; it does not block the import.
    const preview = await previewImport(operator, second);
    expect(preview).toMatchObject({ issueCount: 0, validCount: 4, credentialsDropped: 3 });
    expect(preview.warnings.map((w) => [w.line, w.column])).toEqual([[2, "address"], [3, "port"], [4, "credential"]]);
    expect(preview.warnings[0]!.reason).toMatch(/^The credential "dmz-root" will be detached from imp-a\.custody\.test: this row changes its address 192\.0\.2\.1 -> 192\.0\.2\.9, .*an admin attaches it again on the host's edit page/);
    expect(preview.warnings[2]!.reason).toContain("credential dmz-root -> none");
    expect(preview.rows.find((r) => r.line === 3)?.warnings).toEqual([preview.warnings[1]]);
    expect(preview.rows.find((r) => r.line === 5)?.warnings).toEqual([]);
    // An admin's identical file keeps the credentials: no warnings for them.
    expect(await previewImport(admin, second)).toMatchObject({ credentialsDropped: 0, warnings: [] });
    expect(await prisma.host.count({ where: { name: { startsWith: "imp-" }, credentialId: { not: null } } })).toBe(4);

    const result = await commit(operator, second);
    expect(result).toMatchObject({ updated: 4, credentialsDropped: 3 });
    const hosts = Object.fromEntries((await prisma.host.findMany({ where: { name: { startsWith: "imp-" } } })).map((h) => [h.name.split(".")[0], h]));
    expect(hosts["imp-a"]).toMatchObject({ credentialId: null, pinnedKey: null });
    expect(hosts["imp-b"]).toMatchObject({ credentialId: null, pinnedKey: null, port: 2222 });
    expect(hosts["imp-c"]).toMatchObject({ credentialId: null, pinnedKey: "SHA256:pinned" });
    expect(hosts["imp-d"]!.credentialId).not.toBeNull();
    expect(hosts["imp-d"]!.pinnedKey).toBe("SHA256:pinned");

    const [importEvent] = await prisma.auditEvent.findMany({ where: { action: "host.import", actorId: operator.id } });
    expect((importEvent!.details as { custodyChanges: unknown[] }).custodyChanges).toEqual([
      { host: "imp-a.custody.test", changed: ["address"], credentialDropped: true },
      { host: "imp-b.custody.test", changed: ["port"], credentialDropped: true },
      { host: "imp-c.custody.test", changed: ["credential"], credentialDropped: true },
    ]);
    const [perHost] = await events("host.custody_change", "host:imp-a.custody.test");
    expect(perHost?.details).toMatchObject({ via: "import", changed: ["address"], from: { address: "192.0.2.1", credential: "dmz-root" }, to: { address: "192.0.2.9", credential: null } });
    expect(await events("host.custody_change", "host:imp-d.custody.test")).toHaveLength(0);
  });

  it("shows an operator's row that attaches a credential, and an admin's that attaches one out of scope, as problems in the preview; the commit imports nothing", async () => {
    const attach = csv(["imp-new.custody.test,192.0.2.5,linux,postfix,,,,ssh,22,dmz-root,", "imp-plain.custody.test,192.0.2.6,linux,postfix,,,,ssh,22,,"]);
    const preview = await previewImport(operator, attach);
    expect(preview).toMatchObject({ issueCount: 1, badRowCount: 1, validCount: 1 });
    expect(preview.issues).toEqual([
      { line: 2, column: "credential", reason: expect.stringMatching(/^Only an admin attaches a credential \("dmz-root"\) to a host: leave the credential cell empty and ask an admin/) as unknown },
    ]);
    expect(preview.rows[0]).toMatchObject({ line: 2, action: null, issues: preview.issues });
    await expect(commit(operator, attach)).rejects.toBeInstanceOf(ImportRejectedError);
    // An admin may attach it (192.0.2.5 is inside dmz-root's range).
    expect(await previewImport(admin, attach)).toMatchObject({ issueCount: 0, validCount: 2 });

    const outside = csv(["imp-out.custody.test,192.0.2.66,linux,postfix,,,,ssh,22,dmz-root,"]);
    const scoped = await previewImport(admin, outside);
    expect(scoped.issues).toEqual([
      { line: 2, column: "credential", reason: expect.stringMatching(/^Credential "dmz-root" may not be used for imp-out\.custody\.test \(192\.0\.2\.66\).*widen the scope in Settings > Credentials; or correct the row's address or group$/) as unknown },
    ]);
    await expect(commit(admin, outside)).rejects.toThrow(/Nothing was imported: the file has 1 problem in 1 row/);
    expect(await prisma.host.count({ where: { name: { in: ["imp-new.custody.test", "imp-plain.custody.test", "imp-out.custody.test"] } } })).toBe(0);
  });
});
