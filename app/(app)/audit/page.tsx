import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { auditQuery, isEmptyAuditFilter, parseAuditListParams, AuditListParams } from "@/lib/audit/filter";
import { auditPageData } from "@/lib/audit/list";
import { Alert } from "@/app/_components/ui/alert";
import { EmptyState } from "@/app/_components/ui/card";
import { AuditFilterForm } from "./components/audit-filter-form";
import { ChainStatus } from "./components/chain-status";
import { EventList } from "./components/event-list";

export const metadata: Metadata = { title: "Audit" };

const linkButton = "inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100";

// Viewers see the trail: SECURITY.md "Threat model": a viewer reads everything except secrets (an auditor's role),
// and audit details never hold secrets. The CSV export needs `export` (also viewer).
export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requirePageUser("read");
  const parsed = parseAuditListParams(await searchParams);
  const params = parsed.success ? parsed.data : AuditListParams.parse({});
  const { page, status } = await auditPageData(params);
  const { before: _before, after: _after, ...filter } = params;
  const filtered = !isEmptyAuditFilter(filter);
  const q = auditQuery(filter);

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Audit</h1>
        <a href={`/api/v1/audit/export${q ? `?${q}` : ""}`} download className={linkButton}>
          Export CSV{filtered ? " (filtered)" : ""}
        </a>
      </div>
      <ChainStatus status={status} />
      {!parsed.success && <Alert kind="error">{parsed.error.issues[0]?.message ?? "The filter was not valid"}: showing every event.</Alert>}
      <AuditFilterForm filter={filter} />
      {page.events.length === 0 ? (
        filtered ? (
          <EmptyState title="No events match this filter">
            Filters match the actor, action and target exactly (for example <code>host.create</code> or <code>host:mx1.example.com</code>).{" "}
            <Link href="/audit" className="underline">
              Show every event
            </Link>
          </EmptyState>
        ) : (
          <EmptyState title="No audit events yet">Every change, sign-in and export is recorded here as it happens.</EmptyState>
        )
      ) : (
        <>
          <EventList events={page.events} />
          <nav aria-label="Pages" className="flex justify-between text-sm">
            {page.newer !== null ? (
              <Link className={linkButton} href={`/audit?${auditQuery({ ...filter, after: page.newer })}`}>
                ← Newer
              </Link>
            ) : (
              <span />
            )}
            {page.older !== null && (
              <Link className={linkButton} href={`/audit?${auditQuery({ ...filter, before: page.older })}`}>
                Older →
              </Link>
            )}
          </nav>
        </>
      )}
    </div>
  );
}
