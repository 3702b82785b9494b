"use client";
import { Pie, PieChart, ResponsiveContainer, Tooltip } from "recharts";
import type { HostStatusValue } from "@/lib/compliance/status";
import { STATUS_STYLE } from "@/app/_components/ui/status-badge";

/** Share of hosts per status: one colour per status, the same as the badges. */
export function StatusDonut({ counts }: { counts: Partial<Record<HostStatusValue, number>> }) {
  const data = (Object.keys(STATUS_STYLE) as HostStatusValue[])
    .filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => ({ status: s, name: STATUS_STYLE[s].label, value: counts[s] ?? 0, fill: STATUS_STYLE[s].color }));
  const total = data.reduce((n, d) => n + d.value, 0);
  const summary = data.map((d) => `${d.name}: ${d.value}`).join(", ");
  return (
    <figure role="img" aria-label={`Hosts per status. ${summary}`} className="relative h-48 w-48 shrink-0">
      <ResponsiveContainer width="100%" height="100%">
        <PieChart>
          <Pie data={data} dataKey="value" nameKey="name" innerRadius="62%" outerRadius="100%" stroke="#fff" strokeWidth={data.length > 1 ? 2 : 0} isAnimationActive={false} />
          <Tooltip formatter={(value, name) => [`${Number(value).toLocaleString("en-US")} (${total ? Math.round((Number(value) / total) * 100) : 0}%)`, name]} />
        </PieChart>
      </ResponsiveContainer>
      <figcaption className="pointer-events-none absolute inset-0 flex flex-col items-center justify-center">
        <span className="text-2xl font-semibold tabular-nums text-slate-900">{total.toLocaleString("en-US")}</span>
        <span className="text-xs text-slate-600">hosts</span>
      </figcaption>
    </figure>
  );
}
