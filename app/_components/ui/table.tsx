/** A column of a list table: its header text, or that with extra classes (a width); `hidden` shows the header to screen readers only (an actions column). */
export type Column = string | { label: string; className?: string; hidden?: boolean };

/**
 * The header row of the app's list tables, in their one style. `false` leaves a column out (one
 * shown only to some users). Every header but the last keeps the gap the rows' cells keep (pr-3).
 */
export function TableHead({ columns }: { columns: (Column | false)[] }) {
  const shown = columns.filter((c): c is Column => c !== false).map((c) => (typeof c === "string" ? { label: c } : c));
  return (
    <thead className="text-xs uppercase text-slate-500">
      <tr>
        {shown.map((c, i) => (
          <th key={c.label} scope="col" className={[i < shown.length - 1 ? "py-2 pr-3" : "py-2", c.className].filter(Boolean).join(" ")}>
            {c.hidden ? <span className="sr-only">{c.label}</span> : c.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}
