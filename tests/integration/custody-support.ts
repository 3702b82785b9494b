// What an admin does before tlsfleet sends a credential anywhere (docs/security.md "Credential
// scope", "Host identity"), for tests whose fixtures create credentials and hosts directly.
import { prisma } from "@/lib/db";
import { setCredentialScope } from "@/lib/credentials/scope";

const admin = { id: "00000000-0000-4000-8000-000000000001", email: "fixture-admin@example.test" };

/** Scopes the credential named `name` to these address ranges (audited, as from Settings > Credentials). */
export async function scopeCredential(name: string, cidrs: string[]): Promise<void> {
  const { id } = await prisma.credential.findUniqueOrThrow({ where: { name }, select: { id: true } });
  await setCredentialScope(admin, { credentialId: id, hosts: [], groups: [], cidrs });
}
