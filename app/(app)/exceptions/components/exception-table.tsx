import Link from "next/link";
import type { ExceptionView } from "@/lib/exceptions/service";
import { formatUtc } from "@/lib/time";
import { ExceptionDecisionButtons } from "./exception-decision-buttons";

const STATE_STYLE: Record<ExceptionView["state"], string> = {
  pending: "bg-amber-100 text-amber-900",
  approved: "bg-sky-100 text-sky-800",
  rejected: "bg-slate-100 text-slate-600",
  revoked: "bg-slate-100 text-slate-600",
  expired: "bg-slate-100 text-slate-600",
};

function decidedBy(x: ExceptionView): string | null {
  if (x.revokedBy) return `revoked by ${x.revokedBy} ${formatUtc(x.revokedAt!)}`;
  if (x.rejectedBy) return `rejected by ${x.rejectedBy} ${formatUtc(x.rejectedAt!)}`;
  if (x.approvedBy) return `approved by ${x.approvedBy} ${formatUtc(x.approvedAt!)}`;
  return null;
}

/** Exceptions with who asked and who decided; `canDecide` (admins) adds the buttons. */
export function ExceptionTable({ rows, canDecide, viewerId, showHost }: { rows: ExceptionView[]; canDecide: boolean; viewerId: string; showHost: boolean }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="exception-table">
        <thead className="text-xs uppercase tracking-wide text-slate-500">
          <tr>
            {showHost && <th scope="col" className="py-2 pr-3">Host</th>}
            <th scope="col" className="py-2 pr-3">Covers</th>
            <th scope="col" className="py-2 pr-3">Justification</th>
            <th scope="col" className="py-2 pr-3">Expires</th>
            <th scope="col" className="py-2 pr-3">State</th>
            <th scope="col" className="py-2 pr-3">Requested / decided</th>
            {canDecide && <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 align-top">
          {rows.map((x) => (
            <tr key={x.id} data-exception-id={x.id} data-state={x.state}>
              {showHost && (
                <td className="py-2 pr-3">
                  <Link href={`/hosts/${x.hostId}`} className="font-medium text-brand-700 hover:underline">{x.hostName}</Link>
                  {x.hostRetired && <span className="ml-1 text-xs text-slate-500">(deleted)</span>}
                </td>
              )}
              <td className="py-2 pr-3 whitespace-nowrap">{x.scope}</td>
              <td className="py-2 pr-3 text-slate-800">{x.justification}{x.decisionNote && <p className="text-xs text-slate-500">Note: {x.decisionNote}</p>}</td>
              <td className="py-2 pr-3 whitespace-nowrap">{formatUtc(x.expiresAt)}</td>
              <td className="py-2 pr-3"><span className={`rounded-full px-2 py-0.5 text-xs font-medium ${STATE_STYLE[x.state]}`}>{x.state}</span></td>
              <td className="py-2 pr-3 text-xs text-slate-600">
                requested by {x.requestedBy} {formatUtc(x.createdAt)}
                {decidedBy(x) && <p>{decidedBy(x)}</p>}
              </td>
              {canDecide && (
                <td className="py-2">{(x.state === "pending" || x.state === "approved") && !x.hostRetired && <ExceptionDecisionButtons id={x.id} state={x.state} ownRequest={x.requestedById === viewerId} />}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
