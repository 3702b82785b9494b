import "server-only";
// Credential scope: which hosts a credential may be used for. Only admins set it
// (credentials.manage); every change is an audit event with the old and the new scope.
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import { CredentialError } from "./service";
import { scopeEntryProblems, type CredentialScope } from "./scope-match";
import type { Actor } from "../auth/actor";

const entries = (max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(/[\n,]+/) : v),
    z.array(z.string().trim().max(253)).transform((a) => [...new Set(a.filter(Boolean))]).pipe(z.array(z.string()).max(max, `At most ${max} entries`)),
  );

export const CredentialScopeInput = z
  .object({
    credentialId: z.uuid(),
    hosts: entries(5000),
    groups: entries(500),
    cidrs: entries(500),
  })
  .superRefine((v, ctx) => {
    for (const message of scopeEntryProblems(v.cidrs)) ctx.addIssue({ code: "custom", path: ["cidrs"], message });
  });
export type CredentialScopeInputValue = z.output<typeof CredentialScopeInput>;

/** The scope of one credential with its name, or null when it no longer exists. */
export async function credentialScope(credentialId: string): Promise<(CredentialScope & { name: string }) | null> {
  return prisma.credential.findUnique({ where: { id: credentialId }, select: { name: true, scopeHosts: true, scopeGroups: true, scopeCidrs: true } });
}

/** Every credential's scope, for Settings > Credentials. */
export async function credentialScopes(): Promise<Map<string, CredentialScope>> {
  const rows = await prisma.credential.findMany({ select: { id: true, scopeHosts: true, scopeGroups: true, scopeCidrs: true } });
  return new Map(rows.map((r) => [r.id, { scopeHosts: r.scopeHosts, scopeGroups: r.scopeGroups, scopeCidrs: r.scopeCidrs }]));
}

/** Replaces a credential's scope. Hosts already attached outside the new scope keep the
 *  attachment but their sessions are refused until the scope covers them again. */
export async function setCredentialScope(actor: Actor, input: CredentialScopeInputValue): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const [c] = await tx.$queryRaw<Array<{ name: string; scopeHosts: string[]; scopeGroups: string[]; scopeCidrs: string[] }>>`
      SELECT name, "scopeHosts", "scopeGroups", "scopeCidrs" FROM "Credential" WHERE id = ${input.credentialId}::uuid FOR UPDATE`;
    if (!c) throw new CredentialError("That credential no longer exists");
    await tx.credential.update({ where: { id: input.credentialId }, data: { scopeHosts: input.hosts, scopeGroups: input.groups, scopeCidrs: input.cidrs } });
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "credential.scope_set",
      target: `credential:${c.name}`,
      details: { from: { hosts: c.scopeHosts, groups: c.scopeGroups, cidrs: c.scopeCidrs }, to: { hosts: input.hosts, groups: input.groups, cidrs: input.cidrs } },
    });
  });
}
