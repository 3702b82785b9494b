import Link from "next/link";
import type { HostStatusValue } from "@/lib/compliance/status";
import { countLabel } from "@/lib/inventory/count-label";
import { STATUS_STYLE } from "@/app/_components/ui/status-badge";
import { hostsHref, type ListState } from "./links";

// Worst first: the chips read as "what needs fixing" from the left.
const ORDER: HostStatusValue[] = ["noncompliant", "at_risk", "mismatch", "pending_reboot", "error", "unreachable", "unknown", "excepted", "compliant"];

/** Hosts per status under the other filters; each chip filters to its status (links, no JS). */
export function StatusChips({ state, counts, approximate = false }: { state: ListState; counts: Record<HostStatusValue, number>; approximate?: boolean }) {
  const active = new Set(state.status ?? []);
  const all = Object.values(counts).reduce((a, b) => a + b, 0);
  const chip = "inline-flex items-center gap-2 rounded-full border px-3 py-1 text-sm";
  return (
    <nav aria-label="Filter by status" className="flex flex-wrap gap-2">
      <Link href={hostsHref(state, { status: undefined })} aria-current={active.size === 0 ? "page" : undefined} className={`${chip} ${active.size === 0 ? "border-slate-800 bg-slate-800 text-white" : "border-slate-300 bg-white text-slate-700 hover:bg-slate-100"}`}>
        All <span className="font-semibold tabular-nums">{countLabel(all, approximate)}</span>
      </Link>
      {ORDER.filter((s) => counts[s] > 0 || active.has(s)).map((s) => {
        const on = active.has(s);
        return (
          <Link
            key={s}
            href={hostsHref(state, { status: on ? undefined : [s] })}
            aria-current={on ? "page" : undefined}
            data-testid={`chip-${s}`}
            className={`${chip} ${on ? "border-slate-800 ring-2 ring-slate-800" : "border-slate-300 hover:bg-slate-100"} bg-white text-slate-800`}
          >
            <span aria-hidden className="h-2.5 w-2.5 rounded-full" style={{ backgroundColor: STATUS_STYLE[s].color }} />
            {STATUS_STYLE[s].label} <span className="font-semibold tabular-nums">{countLabel(counts[s], approximate)}</span>
          </Link>
        );
      })}
    </nav>
  );
}
