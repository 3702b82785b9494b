import Link from "next/link";
import type { GroupCompliance } from "@/lib/dashboard/overview";
import { FAILING_STATUSES } from "@/lib/compliance/status";
import { STATUS_STYLE } from "@/app/_components/ui/status-badge";
import { number } from "./format";

const FAILING_PARAM = [...FAILING_STATUSES].join(",");

/** Failing hosts per group with a bar of the failing share. */
export function GroupTable({ groups, groupCount }: { groups: GroupCompliance[]; groupCount: number }) {
  if (groups.length === 0) return <p className="text-sm text-slate-600">No groups yet.</p>;
  return (
    <div>
      <table className="w-full text-sm">
        <thead>
          <tr className="text-left text-xs uppercase tracking-wide text-slate-500">
            <th scope="col" className="py-1 pr-3 font-medium">Group</th>
            <th scope="col" className="py-1 pr-3 text-right font-medium">Failing</th>
            <th scope="col" className="py-1 pr-3 text-right font-medium">Hosts</th>
            <th scope="col" className="w-2/5 py-1 font-medium"><span className="sr-only">Failing share</span></th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {groups.map((g) => {
            const share = g.total ? g.failing / g.total : 0;
            const href = g.group ? `/hosts?group=${encodeURIComponent(g.group)}&status=${FAILING_PARAM}` : `/hosts?status=${FAILING_PARAM}`;
            return (
              <tr key={g.group ?? "(none)"}>
                <td className="py-1.5 pr-3">
                  <Link href={href} className="text-brand-700 hover:underline">{g.group ?? <em className="text-slate-600">no group</em>}</Link>
                </td>
                <td className="py-1.5 pr-3 text-right font-medium tabular-nums">{number(g.failing)}</td>
                <td className="py-1.5 pr-3 text-right tabular-nums text-slate-600">{number(g.total)}</td>
                <td className="py-1.5">
                  <div className="flex items-center gap-2">
                    <div className="h-2 flex-1 rounded-full bg-slate-100" aria-hidden="true">
                      <div className="h-2 rounded-full" style={{ width: `${Math.round(share * 100)}%`, backgroundColor: STATUS_STYLE.noncompliant.color }} />
                    </div>
                    <span className="w-10 text-right text-xs tabular-nums text-slate-600">{Math.round(share * 100)}%</span>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {groupCount > groups.length && <p className="mt-2 text-xs text-slate-600">Showing the {groups.length} groups with the most failing hosts of {number(groupCount)}.</p>}
    </div>
  );
}
