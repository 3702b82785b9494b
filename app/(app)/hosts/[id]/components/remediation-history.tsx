import Link from "next/link";
import type { RolloutGoal } from "@/lib/rollout/settings";
import type { RolloutHostState } from "@/lib/rollout/rules";
import { formatUtc } from "@/lib/time";
import { TableHead } from "@/app/_components/ui/table";
import { RolloutHostStateBadge, RolloutStateBadge } from "@/app/(app)/rollouts/components/rollout-badges";
import { goalsLabel } from "@/app/(app)/rollouts/components/format";

export interface RemediationRow {
  rolloutId: string;
  goals: RolloutGoal[];
  rolloutState: string;
  hostState: RolloutHostState;
  reason: string | null;
  createdAt: string;
  requestedBy: string;
}

/** Every rollout this host was part of, newest first, with what happened to this host in it. */
export function RemediationHistory({ rows }: { rows: RemediationRow[] }) {
  if (rows.length === 0) {
    return <p className="text-sm text-slate-600" data-testid="remediation-history">No rollout has included this host yet. Choose Remediate above to plan a TLS configuration change for it.</p>;
  }
  return (
    <table className="w-full text-left text-sm" data-testid="remediation-history">
      <caption className="sr-only">Rollouts that included this host, newest first</caption>
      <TableHead columns={["Rollout", "Rollout state", "This host", "Requested"]} />
      <tbody>
        {rows.map((r) => (
          <tr key={r.rolloutId} className="border-t border-slate-100 align-top">
            <td className="py-2 pr-3">
              <Link className="font-medium text-brand-600 underline" href={`/rollouts/${r.rolloutId}`}>{goalsLabel(r.goals)}</Link>
            </td>
            <td className="py-2 pr-3"><RolloutStateBadge state={r.rolloutState} /></td>
            <td className="max-w-96 py-2 pr-3">
              <RolloutHostStateBadge state={r.hostState} />
              {r.reason && <p className="mt-1 text-xs text-slate-700">{r.reason}</p>}
            </td>
            <td className="whitespace-nowrap py-2 text-slate-700">
              {formatUtc(r.createdAt)}
              <div className="text-xs text-slate-600">by {r.requestedBy}</div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
