import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { listJobs } from "@/lib/jobs/views";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { TableHead } from "@/app/_components/ui/table";
import { JobStateBadge } from "./components/job-badges";
import { ProgressBar } from "./components/progress-bar";
import { ScanAllButton } from "./components/scan-all-button";
import { formatUtc } from "@/lib/time";

export const metadata: Metadata = { title: "Jobs" };

export default async function JobsPage({ searchParams }: { searchParams: Promise<{ cursor?: string }> }) {
  const user = await requirePageUser("read");
  const { cursor } = await searchParams;
  const { rows, nextCursor } = await listJobs({ cursor: typeof cursor === "string" ? cursor : null, limit: 25 });
  const mayScan = can(user.role, "scans.run");
  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Jobs</h1>
          <p className="text-sm text-slate-600">Scans and other work on hosts, newest first. Open a job for live per-host progress.</p>
        </div>
        {mayScan && <ScanAllButton />}
      </div>
      {rows.length === 0 && !cursor ? (
        <EmptyState title="No jobs yet">
          {mayScan ? (
            <>Start a scan: select hosts on the <Link className="font-medium text-brand-600 underline" href="/hosts">Hosts</Link> page and choose Scan, or scan every host with the button above.</>
          ) : (
            <>Operators start scans from the Hosts page; they will show up here.</>
          )}
        </EmptyState>
      ) : (
        <Card>
          <table className="w-full text-left text-sm">
            <TableHead columns={["Job", "State", { label: "Progress", className: "w-64" }, "Requested by", "Created", "Finished"]} />
            <tbody>
              {rows.map((job) => (
                <tr key={job.id} className="border-t border-slate-100 align-top">
                  <td className="py-2 pr-3">
                    <Link className="font-medium text-brand-600 underline" href={`/jobs/${job.id}`}>
                      {job.kind === "scan" ? "Scan" : job.kind}
                    </Link>
                    <div className="text-xs text-slate-600">{job.target}</div>
                  </td>
                  <td className="py-2 pr-3"><JobStateBadge state={job.state} cancelRequested={job.cancelRequested} /></td>
                  <td className="py-2 pr-3"><ProgressBar counts={job.counts} compact /></td>
                  <td className="py-2 pr-3">{job.requestedBy}</td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatUtc(job.createdAt)}</td>
                  <td className="py-2 whitespace-nowrap">{formatUtc(job.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav className="mt-3 flex justify-between text-sm" aria-label="Pages">
            {cursor ? <Link className="text-brand-600 underline" href="/jobs">Newest</Link> : <span />}
            {nextCursor && <Link className="text-brand-600 underline" href={`/jobs?cursor=${encodeURIComponent(nextCursor)}`}>Older jobs</Link>}
          </nav>
        </Card>
      )}
    </div>
  );
}
