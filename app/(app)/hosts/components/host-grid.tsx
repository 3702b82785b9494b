"use client";
// The host grid: one server-sorted, server-paginated page of hosts with selection. "Select all N
// matching" switches the selection from ids to the filter itself, so a bulk action reaches every
// matching host, not just the ones on screen, and exactly the ones the chips counted.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, useTransition } from "react";
import type { HostStatusValue } from "@/lib/compliance/status";
import { countLabel } from "@/lib/inventory/count-label";
import { filterToSearchParams, type HostFilterValue } from "@/lib/inventory/filter";
import type { HostSummary } from "@/lib/inventory/model";
import { formatUtc } from "@/lib/time";
import { StatusBadge } from "@/app/_components/ui/status-badge";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { startScanAction } from "../../jobs/actions";
import { deleteHostsAction } from "../actions";
import { ConfirmDialog } from "./confirm-dialog";
import { hostsHref, type ListState } from "./links";

/** A host list row as it reaches the browser: times as ISO strings, no owner column. */
export interface GridRow extends Omit<HostSummary, "owner"> {
  status: HostStatusValue;
  explanation: string;
  lastScanAt: string | null;
  firstFailingAt: string | null;
}

type SortKey = NonNullable<ListState["sort"]>;

// A selection travels to the rollout request page in its URL: 200 ids (7.4 KB) stay well under
// Node's 16 KB header limit, which a 500-row page would exceed. A whole page of every matching
// host is sent as its filter instead.
const MAX_IDS_IN_URL = 200;

const plural = (n: number, word: string) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

function SortHeader({ label, sortKey, state, className = "" }: { label: string; sortKey: SortKey; state: ListState; className?: string }) {
  const active = (state.sort ?? "name") === sortKey;
  const dir = state.dir ?? "asc";
  const next = active && dir === "asc" ? "desc" : "asc";
  return (
    <th scope="col" aria-sort={active ? (dir === "asc" ? "ascending" : "descending") : "none"} className={`px-3 py-2 font-medium ${className}`}>
      <Link href={hostsHref(state, { sort: sortKey, dir: next })} className="inline-flex items-center gap-1 hover:text-slate-900">
        {label}
        <span aria-hidden className={active ? "text-slate-900" : "text-slate-300"}>
          {active ? (dir === "asc" ? "▲" : "▼") : "↕"}
        </span>
        <span className="sr-only">{active ? `, sorted ${dir === "asc" ? "ascending" : "descending"}` : ""}</span>
      </Link>
    </th>
  );
}

export function HostGrid({
  rows,
  total,
  approximate = false,
  state,
  filter,
  canWrite,
  canScan,
  canRemediate = false,
  empty,
}: {
  rows: GridRow[];
  total: number;
  /** `total` is an estimate (a large host-side filter): said so wherever it is shown. */
  approximate?: boolean;
  state: ListState;
  filter: HostFilterValue;
  canWrite: boolean;
  canScan: boolean;
  /** May request a rollout (remediation) of the selection. */
  canRemediate?: boolean;
  /** Shown instead of the table when there are no rows (inside the grid, so a "Deleted N hosts" message survives the refresh). */
  empty: React.ReactNode;
}) {
  const router = useRouter();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string; href?: string } | null>(null);
  const [pending, startTransition] = useTransition();
  const headerBox = useRef<HTMLInputElement>(null);

  const pageAll = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const count = allMatching ? total : selected.size;
  const selectable = canWrite || canScan || canRemediate;
  const noFilter = !filter.status?.length && !filter.tag && !filter.group && !filter.platform && !filter.role && !filter.q;

  useEffect(() => {
    if (headerBox.current) headerBox.current.indeterminate = !allMatching && selected.size > 0 && !pageAll;
  }, [selected, pageAll, allMatching]);

  function toggle(id: string) {
    setAllMatching(false);
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  function togglePage() {
    setAllMatching(false);
    setSelected(pageAll ? new Set() : new Set(rows.map((r) => r.id)));
  }

  function clear() {
    setAllMatching(false);
    setSelected(new Set());
  }

  const target = () => (allMatching ? (noFilter ? { all: true as const } : { filter }) : { hostIds: [...selected] });
  const hostsLabel = allMatching && approximate ? `${countLabel(count, true)} hosts` : plural(count, "host");

  // The whole page ticked and the page holds every matching host: the same hosts as the filter.
  const wholeFilter = allMatching || (pageAll && total === rows.length && selected.size > MAX_IDS_IN_URL);
  const remediateHref =
    wholeFilter ? (noFilter ? "/rollouts/new?all=1" : `/rollouts/new?${filterToSearchParams(filter).toString()}`) : selected.size <= MAX_IDS_IN_URL ? `/rollouts/new?hostIds=${[...selected].join(",")}` : null;

  function scan() {
    setMessage(null);
    startTransition(async () => {
      const res = await startScanAction(target());
      if (res.ok) {
        const jobId = res.data?.jobId;
        setMessage({ ok: true, text: `Scan of ${plural(res.data?.taskCount ?? count, "host")} started.`, href: jobId ? `/jobs/${jobId}` : undefined });
        clear();
      } else setMessage({ ok: false, text: res.error });
    });
  }

  function remove() {
    startTransition(async () => {
      const res = await deleteHostsAction(target());
      setConfirming(false);
      if (res.ok) {
        const n = res.data?.deleted ?? 0;
        setMessage({ ok: true, text: `Deleted ${n.toLocaleString("en")} host${n === 1 ? "" : "s"}.` });
        clear();
        router.refresh();
      } else setMessage({ ok: false, text: res.error });
    });
  }

  return (
    <div className="flex flex-col gap-2">
      {message && (
        <Alert kind={message.ok ? "success" : "error"}>
          {message.text}{" "}
          {message.href && (
            <Link href={message.href} className="underline">
              Follow the job
            </Link>
          )}
        </Alert>
      )}

      {selectable && count > 0 && (
        <div role="region" aria-label="Bulk actions" className="flex flex-wrap items-center gap-3 rounded-md border border-brand-600/30 bg-blue-50 px-3 py-2 text-sm">
          <span data-testid="selection-count" className="font-medium">
            {allMatching ? `All ${hostsLabel} matching this filter are selected.` : `${hostsLabel} selected.`}
          </span>
          {!allMatching && pageAll && total > rows.length && (
            <button type="button" onClick={() => setAllMatching(true)} className="font-medium text-brand-600 underline">
              Select all {countLabel(total, approximate)} hosts matching this filter
            </button>
          )}
          <button type="button" onClick={clear} className="text-slate-700 underline">
            Clear selection
          </button>
          <div className="ml-auto flex gap-2">
            {canScan && (
              <Button type="button" onClick={scan} disabled={pending}>
                Scan {hostsLabel}
              </Button>
            )}
            {canRemediate &&
              (remediateHref ? (
                <Link href={remediateHref} className="inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">
                  Remediate {hostsLabel}…
                </Link>
              ) : (
                <span className="self-center text-xs text-slate-700">To remediate, select at most {MAX_IDS_IN_URL} hosts, or all hosts matching this filter.</span>
              ))}
            {canWrite && (
              <Button type="button" variant="danger" onClick={() => setConfirming(true)} disabled={pending}>
                Delete…
              </Button>
            )}
          </div>
        </div>
      )}

      {rows.length === 0 ? (
        empty
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Hosts, one page</caption>
            <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
              <tr>
                {selectable && (
                  <th scope="col" className="w-10 px-3 py-2">
                    <input ref={headerBox} type="checkbox" checked={allMatching || pageAll} onChange={togglePage} aria-label="Select all hosts on this page" className="h-4 w-4" />
                  </th>
                )}
                <SortHeader label="Host" sortKey="name" state={state} />
                <SortHeader label="Status" sortKey="status" state={state} />
                <SortHeader label="Group" sortKey="group" state={state} />
                <th scope="col" className="px-3 py-2 font-medium">
                  Platform / roles
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Tags
                </th>
                <SortHeader label="Last scan" sortKey="lastScanAt" state={state} className="whitespace-nowrap" />
                <SortHeader label="Failing since" sortKey="firstFailingAt" state={state} className="whitespace-nowrap" />
                {canWrite && (
                  <th scope="col" className="px-3 py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {rows.map((r) => {
                const checked = allMatching || selected.has(r.id);
                return (
                  <tr key={r.id} data-testid="host-row" className={checked ? "bg-blue-50/60" : "hover:bg-slate-50"}>
                    {selectable && (
                      <td className="px-3 py-2">
                        <input type="checkbox" checked={checked} onChange={() => toggle(r.id)} aria-label={`Select ${r.name}`} className="h-4 w-4" />
                      </td>
                    )}
                    <td className="min-w-48 max-w-80 px-3 py-2">
                      {/* Long FQDNs wrap rather than truncate: the name is what people scan for. */}
                      <Link href={`/hosts/${r.id}`} className="block break-all font-medium text-brand-600 hover:underline">
                        {r.name}
                      </Link>
                      <div className="truncate text-xs text-slate-500">{r.address}</div>
                    </td>
                    <td className="max-w-80 px-3 py-2">
                      <StatusBadge status={r.status} />
                      <div className="mt-0.5 truncate text-xs text-slate-600" title={r.explanation}>
                        {r.explanation}
                      </div>
                    </td>
                    <td className="px-3 py-2 text-slate-700">{r.group ?? <span className="text-slate-400">—</span>}</td>
                    <td className="px-3 py-2 text-slate-700">
                      {r.platform}
                      {r.roles.length > 0 && <div className="text-xs text-slate-500">{r.roles.join(", ")}</div>}
                    </td>
                    <td className="px-3 py-2">
                      <div className="flex flex-wrap gap-1">
                        {r.tags.map((t) => (
                          <Link key={t} href={hostsHref(state, { tag: t })} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-200">
                            {t}
                          </Link>
                        ))}
                      </div>
                    </td>
                    <td className="whitespace-nowrap px-3 py-2 text-xs text-slate-600">{formatUtc(r.lastScanAt)}</td>
                    <td className="whitespace-nowrap px-3 py-2 text-xs text-slate-600">{formatUtc(r.firstFailingAt)}</td>
                    {canWrite && (
                      <td className="px-3 py-2 text-right">
                        <Link href={`/hosts/${r.id}/edit`} className="text-xs text-slate-600 hover:text-slate-900 hover:underline" aria-label={`Edit ${r.name}`}>
                          Edit
                        </Link>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <ConfirmDialog open={confirming} title={`Delete ${hostsLabel}?`} confirmLabel={`Delete ${hostsLabel}`} pending={pending} onConfirm={remove} onCancel={() => setConfirming(false)}>
        <p>
          {allMatching ? (noFilter ? "Every host in the inventory" : "Every host matching the current filter") : count === 1 ? "The selected host" : "The selected hosts"} will be removed with
          their endpoints, scan results and exceptions. The audit log keeps the record. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
