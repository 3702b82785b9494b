import Form from "next/form";
import Link from "next/link";
import { utcInputValue, type AuditFilter } from "@/lib/audit/filter";

const control = "rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-sm";
const label = "flex flex-col gap-1 text-xs font-medium text-slate-700";

/** A GET form: Enter submits, the result is a URL that can be shared; paging restarts at the newest. */
export function AuditFilterForm({ filter }: { filter: AuditFilter }) {
  return (
    <Form action="/audit" role="search" aria-label="Filter audit events" className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
      <label className={label}>
        Actor
        <input name="actor" defaultValue={filter.actor ?? ""} placeholder="alice@example.com" className={`${control} w-56`} />
      </label>
      <label className={label}>
        Action
        <input name="action" defaultValue={filter.action ?? ""} placeholder="rollout.approved" className={`${control} w-48`} />
      </label>
      <label className={label}>
        Target
        <input name="target" defaultValue={filter.target ?? ""} placeholder="host:mx1.example.com" className={`${control} w-56`} />
      </label>
      <label className={label}>
        From (UTC)
        <input type="datetime-local" name="from" defaultValue={utcInputValue(filter.from)} className={control} />
      </label>
      <label className={label}>
        To (UTC)
        <input type="datetime-local" name="to" defaultValue={utcInputValue(filter.to)} className={control} />
      </label>
      <button type="submit" className="rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:ring-offset-2">
        Filter
      </button>
      <Link href="/audit" className="px-1 py-1.5 text-sm text-slate-700 underline">
        Clear
      </Link>
    </Form>
  );
}
