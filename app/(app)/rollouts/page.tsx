import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { listRollouts } from "@/lib/rollout/views";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { TableHead } from "@/app/_components/ui/table";
import { formatUtc } from "@/lib/time";
import { RolloutStateBadge } from "./components/rollout-badges";
import { goalsLabel, plural } from "./components/format";

export const metadata: Metadata = { title: "Rollouts" };
export const dynamic = "force-dynamic";

export default async function RolloutsPage() {
  const user = await requirePageUser("read");
  const rows = await listRollouts({ limit: 100 });
  const mayRequest = can(user.role, "remediation.request");
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-2xl font-semibold">Rollouts</h1>
        <p className="text-sm text-slate-600">
          Configuration changes to hosts, newest first: a plan is made and approved before anything changes, then applied in waves and checked on the wire.
        </p>
      </div>
      {rows.length === 0 ? (
        <EmptyState title="No rollouts yet: select hosts on the Hosts page and choose Remediate">
          {mayRequest ? (
            <>
              Go to <Link className="font-medium text-brand-600 underline" href="/hosts">Hosts</Link>, tick the hosts to fix (or a whole filter) and choose Remediate.
            </>
          ) : (
            <>Operators request rollouts from the Hosts page; they will show up here.</>
          )}
        </EmptyState>
      ) : (
        <Card>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Rollouts, newest first</caption>
            <TableHead columns={["Rollout", "State", "Hosts", "Requested by", "Created"]} />
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} className="border-t border-slate-100 align-top" data-testid="rollout-row">
                  <td className="py-2 pr-3">
                    <Link className="font-medium text-brand-600 underline" href={`/rollouts/${r.id}`}>
                      {goalsLabel(r.goals)}
                    </Link>
                    <div className="font-mono text-xs text-slate-600">{r.id.slice(0, 8)}</div>
                  </td>
                  <td className="py-2 pr-3"><RolloutStateBadge state={r.state} /></td>
                  <td className="py-2 pr-3 tabular-nums">{plural(r.hosts, "host")}</td>
                  <td className="py-2 pr-3">{r.requestedBy}</td>
                  <td className="py-2 whitespace-nowrap">{formatUtc(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 100 && <p className="mt-3 text-xs text-slate-600">Showing the 100 newest rollouts.</p>}
        </Card>
      )}
    </div>
  );
}
