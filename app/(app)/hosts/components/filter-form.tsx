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
  return (
    <Form action="/hosts" role="search" aria-label="Filter hosts" className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
      <label className={`${label} min-w-48 flex-1`}>
        Search
        <input type="search" name="q" defaultValue={state.q ?? ""} placeholder="Name, address or owner" className={control} />
      </label>
      <label className={label}>
        Status
        <select name="status" defaultValue={statusValue} className={control}>
          <option value="">Any status</option>
          {multiStatus && <option value={statusValue}>{state.status!.map((s) => STATUS_STYLE[s].label).join(", ")}</option>}
          {ORDER.map((s) => (
            <option key={s} value={s}>
              {STATUS_STYLE[s].label}
            </option>
          ))}
        </select>
      </label>
      <label className={label}>
        Tag
        <input name="tag" list="host-tags" defaultValue={state.tag ?? ""} className={`${control} w-32`} />
        <datalist id="host-tags">
          {tags.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </label>
      <label className={label}>
        Group
        <select name="group" defaultValue={state.group ?? ""} className={control}>
          <option value="">Any group</option>
          {state.group && !groups.includes(state.group) && <option value={state.group}>{state.group}</option>}
          {groups.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </label>
      <label className={label}>
        Platform
        <select name="platform" defaultValue={state.platform ?? ""} className={control}>
          <option value="">Any platform</option>
          {PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label className={label}>
        Role
        <select name="role" defaultValue={state.role ?? ""} className={control}>
          <option value="">Any role</option>
          {HOST_ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
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
