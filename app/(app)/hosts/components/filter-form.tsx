import Form from "next/form";
import Link from "next/link";
import { HOST_ROLES, PLATFORMS } from "@/lib/inventory/model";
import type { HostListParamsValue } from "@/lib/inventory/filter";
import { STATUS_STYLE } from "@/app/_components/ui/status-badge";
import type { HostStatusValue } from "@/lib/compliance/status";

const ORDER: HostStatusValue[] = ["noncompliant", "at_risk", "mismatch", "pending_reboot", "error", "unreachable", "unknown", "excepted", "compliant"];
const control = "rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-sm";
const label = "flex flex-col gap-1 text-xs font-medium text-slate-700";

/**
 * A GET form (next/form: a client-side navigation with JavaScript, a plain GET without): Enter
 * submits it, and the result is a URL that can be bookmarked, shared or saved as a filter. Sort
 * and page size carry over; the cursor does not.
 */
export function FilterForm({ state, tags, groups }: { state: HostListParamsValue; tags: string[]; groups: string[] }) {
  const statusValue = state.status?.join(",") ?? "";
  const multiStatus = (state.status?.length ?? 0) > 1;
  // The URL may carry a set of statuses (the Overview links to "failing") or a group that is not
  // among the choices (none left, or past the first 500): both stay selected as an option of their own.
  const statusOptions = [...(multiStatus ? [{ value: statusValue, label: state.status!.map((s) => STATUS_STYLE[s].label).join(", ") }] : []), ...ORDER.map((s) => ({ value: s, label: STATUS_STYLE[s].label }))];
  const groupOptions = state.group && !groups.includes(state.group) ? [state.group, ...groups] : groups;
  return (
    <Form action="/hosts" role="search" aria-label="Filter hosts" className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
      <label className={`${label} min-w-48 flex-1`}>
        Search
        <input type="search" name="q" defaultValue={state.q ?? ""} placeholder="Name, address or owner" className={control} />
      </label>
      <Choice name="status" label="Status" any="Any status" value={statusValue} options={statusOptions} />
      <label className={label}>
        Tag
        <input name="tag" list="host-tags" defaultValue={state.tag ?? ""} className={`${control} w-32`} />
        <datalist id="host-tags">
          {tags.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </label>
      <Choice name="group" label="Group" any="Any group" value={state.group ?? ""} options={groupOptions} />
      <Choice name="platform" label="Platform" any="Any platform" value={state.platform ?? ""} options={PLATFORMS} />
      <Choice name="role" label="Role" any="Any role" value={state.role ?? ""} options={HOST_ROLES} />
      {state.sort !== "name" && <input type="hidden" name="sort" value={state.sort} />}
      {state.dir !== "asc" && <input type="hidden" name="dir" value={state.dir} />}
      {state.limit !== 50 && <input type="hidden" name="limit" value={state.limit} />}
      <div className="flex gap-2">
        <button type="submit" className="rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">
          Apply filter
        </button>
        <Link href="/hosts" className="rounded-md px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100">
          Clear
        </Link>
      </div>
    </Form>
  );
}

/** One select of the filter: "any" (no value) first, then each option (a plain string is its own label). */
function Choice({ name, label: text, any, value, options }: { name: string; label: string; any: string; value: string; options: readonly (string | { value: string; label: string })[] }) {
  return (
    <label className={label}>
      {text}
      <select name={name} defaultValue={value} className={control}>
        <option value="">{any}</option>
        {options.map((o) => {
          const { value: v, label: l } = typeof o === "string" ? { value: o, label: o } : o;
          return (
            <option key={v} value={v}>
              {l}
            </option>
          );
        })}
      </select>
    </label>
  );
}
