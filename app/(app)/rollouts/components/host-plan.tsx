import type { HostPlanValue } from "@/lib/rollout/model";
import { diffValue } from "./format";

/** One host's frozen plan: per playbook the exact values that change (path, value: from → to) and why. */
export function HostPlanDiff({ plan }: { plan: HostPlanValue | null }) {
  if (!plan) return <span className="text-xs text-slate-500">No plan</span>;
  const playbooks = plan.playbooks.filter((p) => p.changes.length > 0);
  if (playbooks.length === 0) return <span className="text-xs text-slate-600">No change needed</span>;
  return (
    <div className="flex flex-col gap-2">
      {playbooks.map((p) => (
        <div key={p.id} data-testid="plan-playbook" data-playbook={p.id}>
          <div className="text-xs font-semibold text-slate-800">
            {p.id}
            {p.rebootNeeded && <span className="ml-2 font-normal text-violet-800">takes effect after a restart</span>}
          </div>
          <ul className="mt-0.5 flex flex-col gap-1">
            {p.changes.map((c, i) => (
              <li key={`${c.path}|${c.value}|${i}`} className="text-xs" data-testid="plan-change">
                <code className="break-all font-mono text-slate-700">{c.path}</code>{" "}
                <code className="break-all font-mono font-medium text-slate-900">{c.value}</code>:{" "}
                <span className={`font-mono ${c.from === null ? "italic text-slate-600" : "text-red-800"}`}>{diffValue(c.from, "from")}</span>
                <span aria-hidden className="px-1 text-slate-500">→</span>
                <span className="sr-only"> becomes </span>
                <span className={`font-mono ${c.to === null ? "italic text-red-800" : "font-medium text-green-800"}`}>{diffValue(c.to, "to")}</span>
                <div className="text-slate-600">{c.reason}</div>
              </li>
            ))}
          </ul>
          {p.describe.length > 0 && (
            <details className="mt-1">
              <summary className="cursor-pointer text-xs text-slate-600">Configuration before the change</summary>
              <ul className="mt-1 list-disc pl-4 text-xs text-slate-700">
                {p.describe.map((d, i) => (
                  <li key={i}>{d}</li>
                ))}
              </ul>
            </details>
          )}
        </div>
      ))}
      {plan.endpointsLosingLegacy.length > 0 && (
        <p className="text-xs text-amber-900">Stops accepting TLS 1.0/1.1: {plan.endpointsLosingLegacy.join(", ")}</p>
      )}
    </div>
  );
}
