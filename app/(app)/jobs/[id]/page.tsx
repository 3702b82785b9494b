import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { getJobSummary, listTaskPage } from "@/lib/jobs/views";
import { TASK_FILTERS, type TaskFilter } from "@/lib/jobs/state";
import { JobLive } from "../components/job-live";
import { formatUtc } from "@/lib/time";

export const metadata: Metadata = { title: "Job" };

/** Rows per page: what a browser renders at once, however many hosts the job has. */
const PAGE_SIZE = 100;

const Query = z.object({
  page: z.coerce.number().int().min(1).catch(1),
  state: z.enum(Object.keys(TASK_FILTERS) as [TaskFilter, ...TaskFilter[]]).catch("all"),
});

export default async function JobPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePageUser("read");
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  const raw = await searchParams;
  const query = Query.parse({ page: raw.page, state: raw.state });
  // Counts from the server for the whole job; rows for one page. The event stream then sends the
  // counts and only changes to the rows on this page.
  const [job, page] = await Promise.all([getJobSummary(id), listTaskPage(id, { page: query.page, filter: query.state, pageSize: PAGE_SIZE })]);
  if (!job) notFound();
  return (
    <div className="flex flex-col gap-4">
      <div>
        <Link className="text-sm text-brand-600 underline" href="/jobs">← Jobs</Link>
        <h1 className="mt-1 text-2xl font-semibold">{job.kind === "scan" ? "Scan" : job.kind} of {job.target}</h1>
        <p className="text-sm text-slate-600">
          Requested by {job.requestedBy} at {formatUtc(job.createdAt)}
          {job.maxConcurrency ? ` · up to ${job.maxConcurrency} hosts at a time` : ""}
        </p>
      </div>
      <JobLive key={`${query.state}|${page.page}|${page.readAt}`} initialJob={job} page={page} filter={query.state} mayCancel={can(user.role, "jobs.cancel")} mayRetry={can(user.role, "scans.run")} />
    </div>
  );
}
