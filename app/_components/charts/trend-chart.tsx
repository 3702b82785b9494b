"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { HostStatusValue } from "@/lib/compliance/status";
import { STATUS_STYLE } from "@/app/_components/ui/status-badge";

export interface TrendPoint {
  day: string; // YYYY-MM-DD (UTC)
  counts: Partial<Record<HostStatusValue, number>>;
}

// Problems at the bottom of the stack, where the eye starts; "unknown" on top.
const STACK_ORDER: HostStatusValue[] = ["noncompliant", "at_risk", "mismatch", "pending_reboot", "error", "unreachable", "excepted", "compliant", "unknown"];

const dayLabel = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

/** Hosts per status at the end of each UTC day, one stacked bar per day (each is a snapshot, not a flow). */
export function TrendChart({ points }: { points: TrendPoint[] }) {
  const present = STACK_ORDER.filter((s) => points.some((p) => (p.counts[s] ?? 0) > 0));
  const data = points.map((p) => ({ day: p.day, ...Object.fromEntries(present.map((s) => [s, p.counts[s] ?? 0])) }));
  const last = points[points.length - 1];
  const summary = last ? `Last ${points.length} days. Today: ${present.map((s) => `${STATUS_STYLE[s].label} ${last.counts[s] ?? 0}`).join(", ")}` : "No data";
  return (
    <figure role="img" aria-label={`Compliance trend. ${summary}`} className="h-72 w-full">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} barCategoryGap="15%" margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="day" tickFormatter={dayLabel} tick={{ fontSize: 12, fill: "#475569" }} minTickGap={24} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: "#475569" }} width={56} tickFormatter={(v: number) => v.toLocaleString("en-US")} />
          <Tooltip labelFormatter={(d) => `${dayLabel(String(d))} (end of day, UTC)`} formatter={(value, name) => [Number(value).toLocaleString("en-US"), STATUS_STYLE[name as HostStatusValue]?.label ?? String(name)]} />
          <Legend formatter={(value: string) => <span className="text-xs text-slate-700">{STATUS_STYLE[value as HostStatusValue]?.label ?? value}</span>} />
          {present.map((s) => (
            <Bar key={s} dataKey={s} stackId="hosts" fill={STATUS_STYLE[s].color} maxBarSize={48} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
