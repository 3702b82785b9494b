import type { HostStatusValue } from "@/lib/compliance/status";
import { Badge } from "./badge";

// One colour and one word per host status, everywhere (STYLE.md "UI").
export const STATUS_STYLE: Record<HostStatusValue, { label: string; className: string; color: string }> = {
  compliant: { label: "Compliant", className: "bg-green-100 text-green-800 ring-green-600/30", color: "#16a34a" },
  noncompliant: { label: "Noncompliant", className: "bg-red-100 text-red-800 ring-red-600/30", color: "#dc2626" },
  at_risk: { label: "At risk", className: "bg-orange-100 text-orange-900 ring-orange-600/30", color: "#ea580c" },
  pending_reboot: { label: "Pending reboot", className: "bg-violet-100 text-violet-800 ring-violet-600/30", color: "#7c3aed" },
  mismatch: { label: "Mismatch", className: "bg-pink-100 text-pink-800 ring-pink-600/30", color: "#db2777" },
  unreachable: { label: "Unreachable", className: "bg-slate-200 text-slate-800 ring-slate-500/30", color: "#64748b" },
  error: { label: "Error", className: "bg-yellow-100 text-yellow-900 ring-yellow-600/30", color: "#ca8a04" },
  unknown: { label: "Unknown", className: "bg-slate-100 text-slate-600 ring-slate-400/30", color: "#94a3b8" },
  excepted: { label: "Excepted", className: "bg-sky-100 text-sky-800 ring-sky-600/30", color: "#0284c7" },
};

export function StatusBadge({ status }: { status: HostStatusValue }) {
  const s = STATUS_STYLE[status] ?? STATUS_STYLE.unknown;
  return (
    <Badge colour={s.className} data-status={status}>
      {s.label}
    </Badge>
  );
}
