import Link from "next/link";
import type { HostStatusValue } from "@/lib/compliance/status";
import { STATUS_STYLE } from "@/app/_components/ui/status-badge";
import { number } from "./format";

const MAIN: HostStatusValue[] = ["compliant", "noncompliant", "at_risk", "unreachable", "unknown"];
const OTHER: HostStatusValue[] = ["pending_reboot", "mismatch", "error", "excepted"];

const HINT: Partial<Record<HostStatusValue, string>> = {
  compliant: "TLS 1.0/1.1 off, TLS 1.2+ on",
  noncompliant: "still accept TLS 1.0 or 1.1",
  at_risk: "no TLS 1.2: mail flow fails",
  unreachable: "could not be probed",
  unknown: "never scanned",
};

function hostsLink(statuses: HostStatusValue[]) {
  return `/hosts?status=${statuses.join(",")}`;
}

/** One big number per status, each a link to the matching host list; rarer statuses share a tile. */
export function StatusNumbers({ counts }: { counts: Record<HostStatusValue, number> }) {
  const other = OTHER.filter((s) => counts[s] > 0);
  const otherTotal = OTHER.reduce((n, s) => n + counts[s], 0);
  return (
    <ul className="grid h-full grid-cols-2 gap-3 sm:grid-cols-3" aria-label="Hosts per status">
      {MAIN.map((s) => (
        <li key={s}>
          <Link
            href={hostsLink([s])}
            data-testid={`count-${s}`}
            className="block h-full rounded-lg border border-slate-200 border-l-4 bg-white px-4 py-3 shadow-sm hover:bg-slate-50"
            style={{ borderLeftColor: STATUS_STYLE[s].color }}
          >
            <div className="text-sm font-medium text-slate-700">{STATUS_STYLE[s].label}</div>
            <div className="text-3xl font-semibold tabular-nums text-slate-900">{number(counts[s])}</div>
            <div className="text-xs text-slate-600">{HINT[s]}</div>
          </Link>
        </li>
      ))}
      <li>
        <Link
          href={hostsLink(OTHER)}
          data-testid="count-other"
          className="block h-full rounded-lg border border-slate-200 border-l-4 border-l-slate-400 bg-white px-4 py-3 shadow-sm hover:bg-slate-50"
        >
          <div className="text-sm font-medium text-slate-700">Other</div>
          <div className="text-3xl font-semibold tabular-nums text-slate-900">{number(otherTotal)}</div>
          <div className="text-xs text-slate-600">
            {other.length ? other.map((s) => `${STATUS_STYLE[s].label.toLowerCase()} ${number(counts[s])}`).join(", ") : "reboot pending, mismatch, error, excepted"}
          </div>
        </Link>
      </li>
    </ul>
  );
}
