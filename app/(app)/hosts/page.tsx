import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { countLabel } from "@/lib/inventory/count-label";
import { HostListParams, isEmptyFilter, parseHostListParams, type HostListParamsValue } from "@/lib/inventory/filter";
import { distinctTagsAndGroups, InventoryError, listHosts, type HostListPage } from "@/lib/inventory/hosts";
import { listSavedFilters } from "@/lib/inventory/saved-filters";
import { Alert } from "@/app/_components/ui/alert";
import { EmptyState } from "@/app/_components/ui/card";
import { FilterForm } from "./components/filter-form";
import { HostGrid } from "./components/host-grid";
import { StatusChips } from "./components/status-chips";
import { SavedFilters } from "./components/saved-filters";
import { EvidenceExports } from "./components/evidence-exports";
import { exportHref, hostsHref, listQuery } from "./components/links";

export const metadata: Metadata = { title: "Hosts" };

const linkButton = "inline-flex items-center rounded-md px-3 py-1.5 text-sm font-medium";

export default async function HostsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePageUser("read");
  const parsed = parseHostListParams(await searchParams);
  const params: HostListParamsValue = parsed.success ? parsed.data : HostListParams.parse({});

  const [listed, choices, saved] = await Promise.all([
    listHosts(params).then(
      (page) => ({ page, error: null }),
      (err: unknown) => {
        if (!(err instanceof InventoryError)) throw err;
        return { page: null, error: err.message };
      },
    ),
    distinctTagsAndGroups(),
    listSavedFilters(user.id),
  ]);
  const page: HostListPage | null = listed.page;
  const problem = listed.error ?? (parsed.success ? null : "Some filter values in the address were not valid, so the unfiltered list is shown.");
  const canWrite = can(user.role, "hosts.write");
  const canScan = can(user.role, "scans.run");
  const filtered = !isEmptyFilter(params);
  const { cursor: _cursor, ...stateWithoutCursor } = params;

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold">Hosts</h1>
          {page && (
            <p className="text-sm text-slate-600" data-testid="host-total">
              {countLabel(page.total, page.approximate)} {filtered ? "matching this filter" : page.total === 1 ? "host" : "hosts"}
              {page.approximate && <span title="Estimated from a sample of the inventory: counting every matching host exactly takes too long at this size. Bulk actions on the whole filter act on every matching host."> (estimated)</span>}
            </p>
          )}
        </div>
        <div className="flex flex-wrap gap-2">
          {canWrite && (
            <>
              <Link href="/hosts/new" className={`${linkButton} bg-brand-600 text-white hover:bg-brand-700`}>
                Add host
              </Link>
              <Link href="/hosts/import" className={`${linkButton} border border-slate-300 bg-white text-slate-800 hover:bg-slate-100`}>
                Import CSV
              </Link>
            </>
          )}
          <a href={exportHref(stateWithoutCursor)} download className={`${linkButton} border border-slate-300 bg-white text-slate-800 hover:bg-slate-100`}>
            Export CSV
          </a>
          <EvidenceExports state={stateWithoutCursor} filter={{ status: params.status, tag: params.tag, group: params.group, platform: params.platform, role: params.role, q: params.q }} />
        </div>
      </div>

      {problem && (
        <Alert kind="error">
          {problem}{" "}
          <Link href={hostsHref(stateWithoutCursor)} className="underline">
            Go to the first page
          </Link>
        </Alert>
      )}

      {/* An empty inventory shows only what to do next; filters appear once there is something to filter. */}
      {!(page && page.total === 0 && !filtered) && (
        <>
          {page && <StatusChips state={stateWithoutCursor} counts={page.counts} approximate={page.approximate} />}
          {/* Keyed by the query: after a client-side navigation (chips, saved filters) the form's
              uncontrolled fields must show the new filter, not the one it was first rendered with. */}
          <FilterForm key={listQuery(stateWithoutCursor)} state={params} tags={choices.tags} groups={choices.groups} />
          <SavedFilters saved={saved} currentQuery={listQuery(stateWithoutCursor)} />
        </>
      )}

      {page && (
        <>
          <HostGrid
            // A new page or filter starts with nothing selected.
            key={listQuery(params, { cursor: params.cursor })}
            rows={page.rows.map((r) => ({
              id: r.id,
              name: r.name,
              address: r.address,
              platform: r.platform,
              roles: r.roles,
              tags: r.tags,
              group: r.group,
              status: r.status,
              explanation: r.explanation,
              lastScanAt: r.lastScanAt?.toISOString() ?? null,
              firstFailingAt: r.firstFailingAt?.toISOString() ?? null,
            }))}
            total={page.total}
            approximate={page.approximate}
            state={stateWithoutCursor}
            filter={{ status: params.status, tag: params.tag, group: params.group, platform: params.platform, role: params.role, q: params.q }}
            canWrite={canWrite}
            canScan={canScan}
            canRemediate={can(user.role, "remediation.request")}
            empty={
              page.total === 0 && !filtered ? (
                <EmptyState title="No hosts yet: import a CSV or add one">
                  <div className="mt-3 flex justify-center gap-2">
                    {canWrite ? (
                      <>
                        <Link href="/hosts/import" className={`${linkButton} bg-brand-600 text-white hover:bg-brand-700`}>
                          Import a CSV
                        </Link>
                        <Link href="/hosts/new" className={`${linkButton} border border-slate-300 bg-white text-slate-800 hover:bg-slate-100`}>
                          Add a host
                        </Link>
                      </>
                    ) : (
                      <span>Ask an operator to import the inventory.</span>
                    )}
                  </div>
                </EmptyState>
              ) : (
                <EmptyState title="No hosts match this filter">
                  <Link href="/hosts" className="text-brand-600 underline">
                    Clear the filter
                  </Link>
                </EmptyState>
              )
            }
          />
          {page.rows.length > 0 && (
            <nav aria-label="Pages" className="flex items-center justify-between text-sm">
              <span className="text-slate-600">
                Showing {page.rows.length.toLocaleString("en")} of {countLabel(page.total, page.approximate)}
              </span>
              <div className="flex gap-2">
                {params.cursor && (
                  <Link href={hostsHref(stateWithoutCursor)} className={`${linkButton} border border-slate-300 bg-white text-slate-800 hover:bg-slate-100`}>
                    First page
                  </Link>
                )}
                {page.nextCursor && (
                  <Link href={hostsHref(stateWithoutCursor, { cursor: page.nextCursor })} className={`${linkButton} border border-slate-300 bg-white text-slate-800 hover:bg-slate-100`}>
                    Next page
                  </Link>
                )}
              </div>
            </nav>
          )}
        </>
      )}
    </div>
  );
}
