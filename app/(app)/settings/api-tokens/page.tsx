import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { listApiTokens } from "@/lib/auth/api-tokens";
import { can, scopesFor } from "@/lib/auth/roles";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { TableHead } from "@/app/_components/ui/table";
import { MintTokenForm } from "./components/mint-token-form";
import { TokenRow } from "./components/token-row";

export const metadata: Metadata = { title: "API tokens" };

const iso = (d: Date | null) => d?.toISOString() ?? null;

export default async function ApiTokensPage() {
  const user = await requirePageUser("tokens.own");
  const tokens = await listApiTokens(user);
  const everyone = can(user.role, "tokens.manage");
  const active = tokens.filter((t) => t.actsAs).length;
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">API tokens</h1>
      <p className="text-sm text-slate-600">
        {active} token{active === 1 ? "" : "s"} in use{everyone ? " across all users" : ""}. Scripts send a token as <code className="rounded bg-slate-100 px-1">Authorization: Bearer …</code>; it acts with its scope, never with more than
        its owner&apos;s role ({user.role} for you). See the <Link className="underline" href="/api/v1/openapi.json">API document</Link>.
      </p>
      <Card title="Create a token">
        <MintTokenForm scopes={scopesFor(user.role)} />
      </Card>
      {tokens.length === 0 ? (
        <EmptyState title="No API tokens yet">Create one above for a script or a monitoring system; it is shown once.</EmptyState>
      ) : (
        <Card title={everyone ? "Every user's tokens" : "Your tokens"}>
          <table className="w-full text-left text-sm [&_td]:pr-3 [&_th]:pr-3">
            <TableHead columns={["Name", everyone && "Owner", "Scope", "Acts as", "Created", "Expires", "Last used", { label: "Actions", hidden: true }]} />
            <tbody>
              {tokens.map((t) => (
                <TokenRow
                  key={t.id}
                  showOwner={everyone}
                  token={{ ...t, createdAt: t.createdAt.toISOString(), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt) }}
                />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}
