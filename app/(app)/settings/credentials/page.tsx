import type { Metadata } from "next";
import { requirePageUser } from "@/lib/auth/guard";
import { credentialScopes } from "@/lib/credentials/scope";
import { listCredentials } from "@/lib/credentials/service";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { TableHead } from "@/app/_components/ui/table";
import { CreateCredentialForm } from "./components/create-credential-form";
import { CredentialRow } from "./components/credential-row";

export const metadata: Metadata = { title: "Credentials" };

const scopeOf = (s: { scopeHosts: readonly string[]; scopeGroups: readonly string[]; scopeCidrs: readonly string[] } | undefined) => ({ hosts: [...(s?.scopeHosts ?? [])], groups: [...(s?.scopeGroups ?? [])], cidrs: [...(s?.scopeCidrs ?? [])] });

export default async function CredentialsPage() {
  await requirePageUser("credentials.manage");
  const [credentials, scopes] = await Promise.all([listCredentials(), credentialScopes()]);
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Credentials</h1>
      <p className="text-sm text-slate-600">
        Used by config audits and fixes over SSH and WinRM. Secrets are encrypted at rest (AES-256-GCM) and are never shown again, logged or exported: to change one, replace it. Each credential is used only for the hosts, groups and address ranges in its scope; a new credential is usable nowhere until you set one.
      </p>
      <Card title="Add a credential">
        <CreateCredentialForm />
      </Card>
      {credentials.length === 0 ? (
        <EmptyState title="No credentials yet">Add an SSH key or a WinRM account above, then pick it on a host to run config audits.</EmptyState>
      ) : (
        <Card title={`${credentials.length} credential${credentials.length === 1 ? "" : "s"}`}>
          <table className="w-full text-left text-sm">
            <TableHead columns={["Name", "Kind", "Username", "Hosts", { label: "Scope", className: "px-3" }, "Updated", { label: "Actions", hidden: true }]} />
            <tbody>
              {credentials.map((c) => (
                <CredentialRow key={c.id} credential={{ id: c.id, name: c.name, kind: c.kind, username: c.username, hostCount: c.hostCount, updatedAt: c.updatedAt.toISOString(), scope: scopeOf(scopes.get(c.id)) }} />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}
